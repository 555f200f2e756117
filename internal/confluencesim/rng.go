package confluencesim

// mix returns a well-spread 64-bit hash of the seed and the given values. It
// is the one source of randomness: every derived attribute of the site is
// mix(seed, salt, index...) so that it can be recomputed at any time.
func mix(seed int64, vals ...uint64) uint64 {
	h := uint64(seed) ^ 0x9e3779b97f4a7c15
	for _, v := range vals {
		h = splitmix(h ^ v)
	}
	return h
}

// splitmix is one step of the SplitMix64 finaliser.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rng is a small deterministic generator used while writing one body. It is
// a value type so that generating a body allocates nothing for it.
type rng struct {
	state uint64
}

func newRNG(seed uint64) rng {
	return rng{state: seed}
}

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return splitmix(r.state)
}

// intn returns a value in [0, n); n must be positive.
func (r *rng) intn(n int) int {
	return int(r.next() % uint64(n))
}

// pick returns one element of list.
func pick[T any](r *rng, list []T) T {
	return list[r.intn(len(list))]
}

// Salts keep the derived values of different attributes independent.
const (
	saltSpace uint64 = iota + 1
	saltUser
	saltPage
	saltBlog
	saltBody
	saltWeight
	saltTitle
)
