package eosimtest_test

import (
	"os"
	"testing"

	"github.com/eosim/eosim/internal/kfakeproc"
)

func TestMain(m *testing.M) { os.Exit(kfakeproc.Main(m)) }
