#!/bin/sh
# Derives the broken and variant fixtures from good/. Run from this folder:
#   sh make_cases.sh
# Each case differs from good/ in one way, named by its folder.
set -e
mk() { rm -rf "$1"; cp -r good "$1"; }

mk metres
awk -F, -v OFS=, 'NR>1{$5=sprintf("%.1f",$5*1000)}1' good/shapes.txt > metres/shapes.txt
awk -F, -v OFS=, 'NR>1&&$6!=""{$6=sprintf("%.1f",$6*1000)}1' good/stop_times.txt > metres/stop_times.txt

mk km_stop_times_only
cut -d, -f1-4 good/shapes.txt > km_stop_times_only/shapes.txt

mk missing_routes
rm missing_routes/routes.txt

mk no_calendar
rm no_calendar/calendar.txt no_calendar/calendar_dates.txt

mk bad_time
sed -i 's/^T1,08:02:00,/T1,25:61:00,/' bad_time/stop_times.txt

mk unknown_stop
sed -i 's/^T2,24:05:00,24:05:00,B,/T2,24:05:00,24:05:00,X,/' unknown_stop/stop_times.txt

mk unknown_trip
sed -i 's/^T2,24:05:00,/T9,24:05:00,/' unknown_trip/stop_times.txt

mk duplicate_sequence
sed -i 's/^T2,24:00:00,24:00:00,C,2,/T2,24:00:00,24:00:00,C,1,/' duplicate_sequence/stop_times.txt

mk decreasing_time
sed -i 's/^T2,24:05:00,24:05:00,B,/T2,23:59:00,23:59:00,B,/' decreasing_time/stop_times.txt

mk unknown_route
sed -i 's/^R1,WK,T2,/R9,WK,T2,/' unknown_route/trips.txt

mk unknown_shape
sed -i 's/^R1,SPECIAL,T3,Delta,0,S1,/R1,SPECIAL,T3,Delta,0,S9,/' unknown_shape/trips.txt

mk one_stop_time
sed -i '/^T3,6:0[39]/d' one_stop_time/stop_times.txt

mk missing_column
cut -d, -f1-4,6- good/stop_times.txt > missing_column/stop_times.txt

mk timezone_mismatch
echo 'TB,Other Agency,https://other.example/,Europe/Rome' >> timezone_mismatch/agency.txt

mk bad_frequency
sed -i 's/^T3,6:00:00,9:00:00,600/T3,9:00:00,6:00:00,600/' bad_frequency/frequencies.txt
