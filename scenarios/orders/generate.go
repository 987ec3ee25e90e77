package orders

import (
	"fmt"
	"math/rand/v2"
)

// Workload describes the input of one run.
type Workload struct {
	Orders      int
	Products    int
	Customers   int
	MaxQuantity int64
	// InitialStock is every product's stock before its first order.
	InitialStock int64
}

// DefaultWorkload is the workload of a default run.
func DefaultWorkload() Workload {
	return Workload{Orders: 1000, Products: 20, Customers: 50, MaxQuantity: 5, InitialStock: 100000}
}

// Validate reports a workload that cannot be generated.
func (w Workload) Validate() error {
	switch {
	case w.Orders < 0:
		return fmt.Errorf("orders: %d is negative", w.Orders)
	case w.Products < 1:
		return fmt.Errorf("products: need at least 1, got %d", w.Products)
	case w.Customers < 1:
		return fmt.Errorf("customers: need at least 1, got %d", w.Customers)
	case w.MaxQuantity < 1:
		return fmt.Errorf("max quantity: need at least 1, got %d", w.MaxQuantity)
	}
	return nil
}

// Generate draws the workload's orders from seed. Products are drawn with a
// skew (the first products are the popular ones) so some keys see long runs
// of updates; quantities are uniform in [1, MaxQuantity].
func Generate(seed uint64, w Workload) ([]Order, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6f72646572730a)) // stream "orders"
	out := make([]Order, w.Orders)
	for i := range out {
		// min of two uniform draws skews toward low product numbers.
		p := min(rng.IntN(w.Products), rng.IntN(w.Products))
		out[i] = Order{
			ID:       fmt.Sprintf("o%05d", i),
			Product:  fmt.Sprintf("p%03d", p),
			Customer: fmt.Sprintf("c%03d", rng.IntN(w.Customers)),
			Quantity: 1 + rng.Int64N(w.MaxQuantity),
		}
	}
	return out, nil
}
