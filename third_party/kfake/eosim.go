package kfake

// eosim: this file is eosim's addition to kfake (see README.eosim.md).

// maxCoordinatorGenerations bounds how far MoveCoordinators looks ahead for
// a generation that moves every key.
const maxCoordinatorGenerations = 64

// MoveCoordinators moves group and transaction coordinators to other
// brokers, deterministically. RehashCoordinators starts a new hash
// generation, which may leave a coordinator on the broker it was on; this
// picks the first generation after the current one that puts every key (a
// group or transactional id) on a broker other than its current one, or,
// when none of the next 64 does, the first that moves keys[0]. Like
// RehashCoordinators it rehashes every id, whether in keys or not, so
// clients learn of the move from NOT_COORDINATOR.
//
// It returns each key's coordinator after the move, in the order of keys,
// and whether keys[0] moved; when it cannot (a one-broker cluster, or no
// key) nothing is rehashed.
func (c *Cluster) MoveCoordinators(keys ...string) (nodes []int32, moved bool) {
	c.admin(func() {
		if len(c.bs) < 2 || len(keys) == 0 {
			return
		}
		cur := c.coordinatorGen.Load()
		before := make([]*broker, len(keys))
		for i, k := range keys {
			before[i] = c.coordinatorAt(cur, k)
		}
		// The generation that moves every key, else the first that moves
		// keys[0]; with two brokers or more the hash gives one within a
		// few generations (the bound is only there to end the loop).
		var chosen, firstMoving uint64
		for gen := cur + 1; chosen == 0 && gen-cur <= 1<<16; gen++ {
			all := true
			for i, k := range keys {
				if c.coordinatorAt(gen, k) == before[i] {
					all = false
				} else if i == 0 && firstMoving == 0 {
					firstMoving = gen
				}
			}
			switch {
			case all:
				chosen = gen
			case gen-cur >= maxCoordinatorGenerations && firstMoving != 0:
				chosen = firstMoving
			}
		}
		if chosen == 0 {
			return
		}
		c.coordinatorGen.Store(chosen)
		for _, k := range keys {
			nodes = append(nodes, c.coordinatorAt(chosen, k).node)
		}
		moved = true
	})
	return nodes, moved
}
