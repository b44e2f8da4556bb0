package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// NodeTimeout is the cluster-node-timeout of a test cluster, and the
// down-after-milliseconds of a test sentinel: how long a master must be
// unreachable before its replica takes over. Short, so that failovers
// take seconds.
const NodeTimeout = time.Second

// readyTimeout bounds how long a cluster or sentinel may take to form.
const readyTimeout = 30 * time.Second

// Cluster is a Redis Cluster on loopback ports, started for a test: some
// masters, each with one replica.
type Cluster struct {
	// Nodes are every node, masters first as created (roles change with
	// failovers).
	Nodes []*Server
}

// StartCluster starts a cluster of masters masters with a replica each,
// created with redis-cli --cluster create, and waits until every slot is
// served and every replica is in sync. args are more redis-server
// arguments for every node. It skips tb (or fails it, with
// ANTIFRAUD_REQUIRE_REDIS=1) when redis-server or redis-cli is missing.
// The nodes stop at tb's end.
func StartCluster(tb testing.TB, masters int, args ...string) *Cluster {
	tb.Helper()
	cli, err := lookPath("redis-cli")
	if err != nil {
		unavailable(tb, err)
	}
	c := &Cluster{}
	var addrs []string
	for range 2 * masters {
		s := startOwn(tb, true, append([]string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(NodeTimeout / time.Millisecond)),
			// A replica takes over however long its link was down.
			"--cluster-replica-validity-factor", "0",
		}, args...)...)
		c.Nodes = append(c.Nodes, s)
		addrs = append(addrs, s.Addr)
	}
	create := append([]string{"--cluster", "create"}, addrs...)
	create = append(create, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, create...).CombinedOutput(); err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitHealthy(tb)
	return c
}

// Client returns a cluster client over every node, with
// ContextTimeoutEnabled and opts applied, closed at tb's end.
func (c *Cluster) Client(tb testing.TB, opts ...func(*redis.ClusterOptions)) *redis.ClusterClient {
	o := &redis.ClusterOptions{ContextTimeoutEnabled: true}
	for _, s := range c.Nodes {
		o.Addrs = append(o.Addrs, s.Addr)
	}
	for _, f := range opts {
		f(o)
	}
	cc := redis.NewClusterClient(o)
	tb.Cleanup(func() { cc.Close() })
	return cc
}

// WaitHealthy waits until every running node says the cluster is ok
// (every slot served) and every replica's link to its master is up; it
// fails tb after 30s.
func (c *Cluster) WaitHealthy(tb testing.TB) {
	tb.Helper()
	err := waitFor(func() error {
		for _, s := range c.Nodes {
			if s.cmd == nil {
				continue // stopped
			}
			info, err := s.clusterInfo()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("node %s: cluster not ok", s.Addr)
			}
			repl, err := s.info("replication")
			if err != nil {
				return err
			}
			if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
				return fmt.Errorf("replica %s not in sync", s.Addr)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("cluster not healthy after %v: %v", readyTimeout, err)
	}
}

// MasterOfOrNil is MasterOf, but returns nil instead of failing.
func (c *Cluster) MasterOfOrNil(key string) (m *Server) {
	defer func() { recover() }()
	return c.MasterOf(panicTB{}, key)
}

type panicTB struct{ testing.TB }

func (panicTB) Helper()                   {}
func (panicTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (panicTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

// MasterOf returns the node that serves key's slot now.
func (c *Cluster) MasterOf(tb testing.TB, key string) *Server {
	tb.Helper()
	for _, s := range c.Nodes {
		if s.cmd == nil {
			continue
		}
		cl := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		defer cl.Close()
		ctx := context.Background()
		slot, err := cl.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			tb.Fatal(err)
		}
		nodes, err := cl.ClusterNodes(ctx).Result()
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(nodes, "\n") {
			f := strings.Fields(line)
			if len(f) < 9 || !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") {
				continue
			}
			addr, _, _ := strings.Cut(f[1], "@")
			for _, r := range f[8:] {
				lo, hi, ok := strings.Cut(r, "-")
				if !ok {
					hi = lo
				}
				l, err1 := strconv.ParseInt(lo, 10, 64)
				h, err2 := strconv.ParseInt(hi, 10, 64)
				if err1 == nil && err2 == nil && l <= slot && slot <= h {
					for _, n := range c.Nodes {
						if n.Addr == addr {
							return n
						}
					}
				}
			}
		}
		break
	}
	tb.Fatalf("no master serves the slot of %q", key)
	return nil
}

// Sentinel is one master, one replica and one sentinel watching them,
// started for a test.
type Sentinel struct {
	// Master and Replica are the data nodes as started; a failover swaps
	// their roles.
	Master, Replica *Server
	// Sentinel is the sentinel.
	Sentinel *Server
}

// SentinelMaster is the name the test sentinel knows its master by.
const SentinelMaster = "antifraud"

// StartSentinel starts a master, a replica of it and a sentinel
// (redis-server --sentinel) monitoring them with a quorum of one, and
// waits until the sentinel knows both. It skips or fails tb as Start does.
// All stop at tb's end.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	m := startOwn(tb, false)
	r := startOwn(tb, false, "--replicaof", "127.0.0.1", strconv.Itoa(m.port))
	sen := startOwn(tb, false, "--sentinel",
		"sentinel monitor "+SentinelMaster+" 127.0.0.1 "+strconv.Itoa(m.port)+" 1",
		"sentinel down-after-milliseconds "+SentinelMaster+" "+strconv.Itoa(int(NodeTimeout/time.Millisecond)),
		"sentinel failover-timeout "+SentinelMaster+" 5000",
	)
	s := &Sentinel{Master: m, Replica: r, Sentinel: sen}
	err := waitFor(func() error {
		cl := redis.NewSentinelClient(&redis.Options{Addr: sen.Addr, MaxRetries: -1})
		defer cl.Close()
		ctx := context.Background()
		replicas, err := cl.Replicas(ctx, SentinelMaster).Result()
		if err != nil {
			return err
		}
		if len(replicas) != 1 {
			return fmt.Errorf("sentinel knows %d replicas", len(replicas))
		}
		repl, err := r.info("replication")
		if err != nil {
			return err
		}
		if !strings.Contains(repl, "master_link_status:up") {
			return fmt.Errorf("replica not in sync")
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("sentinel not ready after %v: %v", readyTimeout, err)
	}
	return s
}

// Client returns a failover client through the sentinel, with
// ContextTimeoutEnabled and opts applied, closed at tb's end.
func (s *Sentinel) Client(tb testing.TB, opts ...func(*redis.FailoverOptions)) *redis.Client {
	o := &redis.FailoverOptions{
		MasterName:            SentinelMaster,
		SentinelAddrs:         []string{s.Sentinel.Addr},
		ContextTimeoutEnabled: true,
	}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewFailoverClient(o)
	tb.Cleanup(func() { c.Close() })
	return c
}

// MasterAddr returns the address the sentinel gives for the master now.
func (s *Sentinel) MasterAddr(tb testing.TB) string {
	tb.Helper()
	cl := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinel.Addr, MaxRetries: -1})
	defer cl.Close()
	addr, err := cl.GetMasterAddrByName(context.Background(), SentinelMaster).Result()
	if err != nil {
		tb.Fatal(err)
	}
	return addr[0] + ":" + addr[1]
}

// info returns a section of INFO from s.
func (s *Server) info(section string) (string, error) {
	cl := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return cl.Info(ctx, section).Result()
}

// clusterInfo returns CLUSTER INFO from s.
func (s *Server) clusterInfo() (string, error) {
	cl := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return cl.ClusterInfo(ctx).Result()
}

// waitFor polls f until it returns nil, for at most readyTimeout, and
// returns its last error.
func waitFor(f func() error) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond) // polling outside processes
	}
}

// ReplicaOf returns the address of the master s replicates, or "" when s
// is a master.
func (s *Server) ReplicaOf(tb testing.TB) string {
	tb.Helper()
	repl, err := s.info("replication")
	if err != nil {
		tb.Fatal(err)
	}
	var host, port string
	for _, line := range strings.Split(repl, "\r\n") {
		if v, ok := strings.CutPrefix(line, "master_host:"); ok {
			host = v
		}
		if v, ok := strings.CutPrefix(line, "master_port:"); ok {
			port = v
		}
	}
	if host == "" {
		return ""
	}
	return host + ":" + port
}
