package redisstore

import "github.com/pulseboard/pulseboard/internal/store"

// parseBucket reads a key of the bucket index back into the bucket it
// names; internal/rediskeys spells every key (layout there).
func (s *Store) parseBucket(key string) (store.BucketKey, error) {
	rollup, g, id, err := s.keys.ParseBucket(key)
	return store.BucketKey{Rollup: rollup, Gran: g, ID: id}, err
}
