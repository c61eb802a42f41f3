package main

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"herald/config"
	"herald/internal/redistest"
)

// A Redis user without INFO (ACL +@all -@dangerous, the usual application user: INFO and
// CONFIG are both @dangerous) serves herald, and doctor says it could not read the version and
// persistence, as it already did for CONFIG: it used to ignore INFO's refusal and FAIL with
// "version  is too old" (and warn that AOF is off), sending the operator to upgrade a Redis
// that is recent, with exit 1.
func TestDoctorRedisWithoutINFOPermission(t *testing.T) {
	srv := redistest.StartServer(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	if err := admin.Do(ctx, "ACL", "SETUSER", "herald", "on", ">app-password-1234", "~*", "&*", "+@all", "-@dangerous").Err(); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte("redis:\n  url: redis://herald:app-password-1234@" + srv.Addr + "/0\n"))
	if err != nil {
		t.Fatal(err)
	}
	fs := doctorRedis(ctx, cfg)
	var all []string
	for _, f := range fs {
		all = append(all, f.Level+" "+f.Area+" "+f.Detail+" → "+f.Advice)
		if f.Level == "fail" {
			t.Errorf("doctor fails a Redis it cannot run INFO on: %s %s (%s)", f.Area, f.Detail, f.Advice)
		}
		if strings.Contains(f.Detail, "AOF persistence is off") {
			t.Errorf("doctor says AOF is off without having read it: %s", f.Detail)
		}
	}
	text := strings.Join(all, "\n")
	if !strings.Contains(text, "could not read INFO") || !strings.Contains(text, "6.2") || !strings.Contains(text, "appendonly") {
		t.Errorf("doctor does not say it could not check the version and AOF, and what to check by hand:\n%s", text)
	}
}
