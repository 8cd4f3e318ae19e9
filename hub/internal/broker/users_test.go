package broker

import (
	"strings"
	"testing"
)

func TestUsersBad(t *testing.T) {
	for _, c := range []struct {
		users []User
		want  string
	}{
		{[]User{{Username: "bus 1", Password: "long-enough-pw"}}, "username"},
		{[]User{{Username: "bus-1", Password: "short"}}, "shorter than 12"},
		{[]User{{Username: "*", Password: "long-enough-pw", Role: RoleAdmin}}, "wildcard"},
		{[]User{{Username: "ops", Password: "long-enough-pw", Role: "root"}}, `role "root"`},
		{[]User{{Username: "bus-1", Password: "long-enough-pw"}, {Username: "bus-1", Password: "long-enough-pw2"}}, "given twice"},
		{[]User{{Username: "bus-1", PasswordHash: "not-bcrypt"}}, "not a bcrypt hash"},
		{[]User{{Username: "bus-1", Password: "long-enough-pw", PasswordHash: "$2a$10$aBdnL0gTNaoK.vxDB.tBv.w8kZdH4jYtiDTIY//Lif5g6IjnRegb2"}}, "not both"},
	} {
		_, err := Start(Options{Addr: "127.0.0.1:0", Users: c.users})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("users %+v: error %v, want one saying %q", c.users, err, c.want)
		}
	}
}
