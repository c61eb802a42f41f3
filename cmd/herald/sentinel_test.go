package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/internal/redistest"
)

// A Sentinel setup, as README and deploy/ recommend for failover (one primary, Sentinel), is
// reached through redis.url naming a sentinel and the primary's master_name: the CLI (and serve,
// through the same openRedis) asks the sentinel for the primary. Such a URL was refused
// ("unexpected option: master_name"), so the only way in was the primary's own address, which
// a failover turns into a read-only replica.
func TestRedisURLThroughSentinel(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	primary := redistest.StartServer(t)
	sentinel := freeAddr(t)
	_, port, _ := strings.Cut(sentinel, ":")
	_, primaryPort, _ := strings.Cut(primary.Addr, ":")
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	doc := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor herald-primary 127.0.0.1 %s 1\n", port, dir, primaryPort)
	if err := os.WriteFile(conf, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel})
	defer sc.Close()
	waitUntil(t, 10*time.Second, "the sentinel to know the primary", func() bool {
		addr, err := sc.GetMasterAddrByName(context.Background(), "herald-primary").Result()
		return err == nil && len(addr) == 2 && addr[1] == primaryPort
	})

	cfg := writeConfig(t, fmt.Sprintf("redis:\n  url: \"redis://%s/3?master_name=herald-primary\"\nchannels:\n  - {name: tg, kind: telegram, settings: {chat_id: 1}}\n", sentinel))
	t.Setenv("REDIS_URL", "")
	t.Setenv("HERALD_CONFIG", "")
	out, errOut, code := runCLI(t, `{"id":"sen-1","url":"https://news.example.com/sen-1","title":"خبر"}`, "publish", "--config", cfg, "-")
	if code != 0 {
		t.Fatalf("publish through the sentinel: exit %d\n%s%s", code, out, errOut)
	}
	// It went to the primary the sentinel named, in the URL's database.
	direct := redis.NewClient(&redis.Options{Addr: primary.Addr, DB: 3})
	defer direct.Close()
	if n, err := direct.Exists(context.Background(), "herald:dlv:{sen-1:tg}").Result(); err != nil || n != 1 {
		t.Fatalf("the delivery record is not on the primary's database 3: %d %v", n, err)
	}
	if _, errOut, code := runCLI(t, "", "status", "--config", cfg, "sen-1"); code != 0 {
		t.Fatalf("status through the sentinel: exit %d %s", code, errOut)
	}
	// A sentinel that is not there is said as such.
	bad := writeConfig(t, fmt.Sprintf("redis:\n  url: \"redis://%s/0?master_name=herald-primary\"\n", closedAddr(t)))
	if _, errOut, code := runCLI(t, "", "status", "--config", bad, "sen-1"); code != 1 || !strings.Contains(errOut, "connecting to redis sentinel at 127.0.0.1:") {
		t.Fatalf("status with no sentinel listening: exit %d %s", code, errOut)
	}
}
