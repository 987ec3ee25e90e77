package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// copyFiles copies the database file and its WAL (what the disk holds) to
// dir, as they would be found after the process that had them open died:
// the shared-memory index is not copied, SQLite rebuilds it from the WAL.
func copyFiles(t *testing.T, path, dir string) string {
	t.Helper()
	dst := filepath.Join(dir, filepath.Base(path))
	for _, suffix := range []string{"", "-wal"} {
		in, err := os.Open(path + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		out, err := os.Create(dst + suffix)
		require.NoError(t, err)
		_, err = io.Copy(out, in)
		require.NoError(t, err)
		require.NoError(t, errors.Join(in.Close(), out.Close()))
	}
	return dst
}

func count(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM t").Scan(&n))
	return n
}

// TestCrashLeavesWhatSQLiteLeaves: the files of a database whose writer dies
// mid-transaction, its uncommitted pages already spilled to the WAL, open
// with the transaction gone and the committed rows kept; once committed,
// the rows survive the same death. This is the crash model the engine
// relies on: a dead instance's open transaction rolls back, a committed
// one stays, without fsync (synchronous=OFF loses nothing to a process
// crash).
func TestCrashLeavesWhatSQLiteLeaves(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := Open(path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO t (v) VALUES ('committed')")
	require.NoError(t, err)
	// A small page cache makes the transaction spill to the WAL before it
	// commits.
	_, err = db.Exec("PRAGMA cache_size = 10")
	require.NoError(t, err)

	tx, err := db.Begin()
	require.NoError(t, err)
	for range 500 {
		_, err = tx.Exec("INSERT INTO t (v) VALUES (zeroblob(4000))")
		require.NoError(t, err)
	}
	wal, err := os.Stat(path + "-wal")
	require.NoError(t, err)
	require.Greater(t, wal.Size(), int64(100_000), "the open transaction never reached the WAL")

	dead := copyFiles(t, path, t.TempDir())
	require.NoError(t, Check(ctx, dead))
	reopened, err := Open(dead)
	require.NoError(t, err)
	require.Equal(t, 1, count(t, reopened), "the dead writer's open transaction is visible")
	require.NoError(t, reopened.Close())

	require.NoError(t, tx.Commit())
	dead = copyFiles(t, path, t.TempDir())
	reopened, err = Open(dead)
	require.NoError(t, err)
	require.Equal(t, 501, count(t, reopened), "a committed transaction was lost with its writer")
	require.NoError(t, reopened.Close())
}

func TestCheckRefusesWhatIsNotASoundDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.ErrorIs(t, Check(ctx, filepath.Join(dir, "missing.db")), os.ErrNotExist)

	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte(strings.Repeat("not a database\n", 100)), 0o644))
	require.Error(t, Check(ctx, text))

	// A real database whose pages are overwritten in the middle.
	path := filepath.Join(dir, "app.db")
	db, err := Open(path)
	require.NoError(t, err)
	_, err = db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX tv ON t (v)")
	require.NoError(t, err)
	for i := range 2000 {
		_, err = db.Exec("INSERT INTO t (v) VALUES (?)", strings.Repeat("x", i%50))
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())
	require.NoError(t, Check(ctx, path))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte(strings.Repeat("\xff", 8192)), 3*4096)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Error(t, Check(ctx, path), "a database with overwritten pages passed the check")
}

func TestReadTablesRendersRowsAsText(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`CREATE TABLE "odd ""name""" (k TEXT, n INTEGER, z TEXT); CREATE TABLE empty (x TEXT)`)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO "odd ""name""" VALUES ('a', 1, NULL), ('b', 2, 'z')`)
	require.NoError(t, err)
	tables, err := ReadTables(ctx, db)
	require.NoError(t, err)
	require.Contains(t, tables, "empty", "an empty table must be there, with no rows")
	require.Empty(t, tables["empty"])
	rows := tables[`odd "name"`]
	require.Len(t, rows, 2)
	require.Equal(t, map[string]string{"k": "a", "n": "1", "z": ""}, rows[0].Values)
	require.Equal(t, map[string]string{"k": "b", "n": "2", "z": "z"}, rows[1].Values)
}

func TestIsBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	a, err := Open(path)
	require.NoError(t, err)
	defer a.Close()
	b, err := Open(path)
	require.NoError(t, err)
	defer b.Close()
	tx, err := a.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = b.Begin()
	require.True(t, IsBusy(err), "a second writer got %v, not SQLITE_BUSY", err)
	require.False(t, IsBusy(errors.New("database is locked")), "only SQLite's own error is busy")
}
