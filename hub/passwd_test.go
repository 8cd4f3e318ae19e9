package main

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestPasswd(t *testing.T) {
	var out bytes.Buffer
	if err := passwdCmd(strings.NewReader("correct-horse-battery\n"), &out); err != nil {
		t.Fatal(err)
	}
	hash := strings.TrimSpace(out.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct-horse-battery")); err != nil {
		t.Errorf("hash %q does not match the password: %v", hash, err)
	}
	if err := passwdCmd(strings.NewReader("short\n"), &out); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("short password: %v", err)
	}
}
