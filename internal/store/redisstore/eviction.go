package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/fault"
)

// evictionRecheck is how long one reading of maxmemory-policy is trusted
// before Ping reads it again: a policy changed at runtime (CONFIG SET, a
// failover to a differently configured replica) shows within this long.
const evictionRecheck = 10 * time.Second

// safePolicy is the only maxmemory-policy that never drops keys. Any other
// lets Redis evict buckets (undercounts) and response ids (a resend then
// counts twice), and a node's replica never notices either.
const safePolicy = "noeviction"

// Eviction states, as EvictionState reports them.
const (
	EvictionUnknown = -1 // neither CONFIG GET nor INFO said
	EvictionUnsafe  = 0  // a master may evict keys
	EvictionSafe    = 1  // every master runs noeviction
)

// errPolicyUnknown means the server would not tell its policy (CONFIG
// renamed or disabled, as on some managed Redis, and INFO without it).
var errPolicyUnknown = errors.New("maxmemory-policy unknown")

// evictionGuard caches the last reading of the policy.
type evictionGuard struct {
	mu      sync.Mutex
	checked time.Time
	policy  string // "" when unknown
	known   bool   // a reading was made
}

// checkEviction reads maxmemory-policy on every master at most every
// evictionRecheck, and fails with the reason while one may evict keys,
// unless the operator allowed it. A server that will not tell is logged
// once and accepted: refusing it would lock out managed Redis that hides
// CONFIG.
func (s *Store) checkEviction(ctx context.Context) error {
	now := s.opts.Now()
	g := &s.eviction
	g.mu.Lock()
	fresh := g.known && now.Sub(g.checked) < evictionRecheck && now.Sub(g.checked) >= 0
	policy := g.policy
	g.mu.Unlock()
	if !fresh {
		p, err := s.readPolicy(ctx)
		switch {
		case errors.Is(err, errPolicyUnknown):
			p = ""
		case err != nil:
			return classify(err, "read maxmemory-policy")
		}
		g.mu.Lock()
		changed := !g.known || g.policy != p
		g.checked, g.policy, g.known = now, p, true
		g.mu.Unlock()
		if changed {
			s.logPolicy(p)
		}
		policy = p
	}
	if policy == "" || policy == safePolicy || s.cfg.AllowEviction {
		return nil
	}
	return fault.New(fault.Unavailable,
		"redis maxmemory-policy is %s: under memory pressure Redis may evict counters and response ids (undercounts, double counts); set maxmemory-policy noeviction, or PULSEBOARD_REDIS_ALLOW_EVICTION=true to accept the risk", policy)
}

func (s *Store) logPolicy(p string) {
	log := s.cfg.Logger
	switch {
	case log == nil:
	case p == "":
		log.Warn("redis: cannot read maxmemory-policy (CONFIG GET and INFO memory refused); make sure it is noeviction")
	case p == safePolicy:
		log.Info("redis: maxmemory-policy noeviction")
	case s.cfg.AllowEviction:
		log.Warn("redis: maxmemory-policy may evict keys; allowed by PULSEBOARD_REDIS_ALLOW_EVICTION", "policy", p)
	default:
		log.Error("redis: maxmemory-policy may evict keys; /readyz fails until it is noeviction", "policy", p)
	}
}

// EvictionState says what the last reading found: EvictionSafe,
// EvictionUnsafe or EvictionUnknown (also before the first reading).
func (s *Store) EvictionState() int {
	g := &s.eviction
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case !g.known || g.policy == "":
		return EvictionUnknown
	case g.policy == safePolicy:
		return EvictionSafe
	}
	return EvictionUnsafe
}

// readPolicy reads the policy of the server, or of every master of a
// cluster; the first that may evict is the answer.
func (s *Store) readPolicy(ctx context.Context) (string, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	c, ok := s.rdb.(*redis.ClusterClient)
	if !ok {
		return policyOf(ctx, s.rdb)
	}
	var mu sync.Mutex
	policy := ""
	err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		p, err := policyOf(ctx, node)
		if err != nil {
			return fmt.Errorf("%s: %w", node.Options().Addr, err)
		}
		mu.Lock()
		if policy == "" || policy == safePolicy {
			policy = p
		}
		mu.Unlock()
		return nil
	})
	return policy, err
}

// policyOf asks one server with CONFIG GET, and with INFO memory when CONFIG
// answers with an error (renamed or disabled).
func policyOf(ctx context.Context, c policyReader) (string, error) {
	m, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
	if err == nil && m["maxmemory-policy"] != "" {
		return m["maxmemory-policy"], nil
	}
	var reply redis.Error
	if err != nil && !errors.As(err, &reply) {
		return "", err // not an answer: the server is unreachable
	}
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		if errors.As(err, &reply) {
			return "", errPolicyUnknown
		}
		return "", err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "maxmemory_policy:"); ok && v != "" {
			return v, nil
		}
	}
	return "", errPolicyUnknown
}

// policyReader is what policyOf needs of a client or a cluster node.
type policyReader interface {
	ConfigGet(ctx context.Context, parameter string) *redis.MapStringStringCmd
	Info(ctx context.Context, section ...string) *redis.StringCmd
}
