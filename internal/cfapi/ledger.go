package cfapi

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// EnvLedgerDir names the directory where the processes on this machine
// share their API budget, one file per token and API; "off" leaves each
// process its own count.
const EnvLedgerDir = "CLOUDFLARE_API_BUDGET_DIR"

// LedgerDirFromEnv reads EnvLedgerDir, else names dome-infra/api-budget in
// the user's cache directory. It is "" (no sharing) when set to "off", or
// when the system names no cache directory (no home): a directory other
// users can write to, such as the temporary one, is no place for it.
func LedgerDirFromEnv(getenv func(string) string) string {
	switch v := strings.TrimSpace(getenv(EnvLedgerDir)); v {
	case "off":
		return ""
	case "":
		cache, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(cache, "dome-infra", "api-budget")
	default:
		return v
	}
}

// ledgerFile names the ledger of the calls made with token to the API at
// base by a hash of the two, which does not give the token away.
func ledgerFile(dir, base, token string) string {
	sum := sha256.Sum256([]byte(base + "\x00" + token))
	return filepath.Join(dir, hex.EncodeToString(sum[:]))
}

// load returns the shared ledger's file, locked, with its bytes read into
// p.buf; nil when the ledger is not shared, or no longer can be.
func (p *pacer) load(ctx context.Context) *os.File {
	if p.file == "" {
		return nil
	}
	file, err := lockFile(p.file)
	if err == nil {
		p.buf.Reset()
		if _, err = p.buf.ReadFrom(file); err == nil {
			return file
		}
		file.Close()
	}
	p.unshare(ctx, err)
	return nil
}

// lockFile opens a ledger's file, creating it (and its directory) if need
// be, and takes its lock.
func lockFile(path string) (*os.File, error) {
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		// The first budget shared on this machine, or a cache cleared since.
		if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
			file, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		}
	}
	if err != nil {
		return nil, err
	}
	// The lock is the open file's: closing the file releases it, and so
	// does the end of a process that dies holding it.
	if err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX); err != nil {
		file.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return file, nil
}

// save writes the ledger over the file's bytes.
func (p *pacer) save(ctx context.Context, file *os.File, now time.Time) {
	p.buf.Reset()
	p.buf.Write(p.led.encode(p.buf.AvailableBuffer(), now))
	_, err := file.WriteAt(p.buf.Bytes(), 0)
	if err == nil {
		err = file.Truncate(int64(p.buf.Len()))
	}
	if err != nil {
		p.unshare(ctx, err)
	}
}

// unshare goes on with the ledger as last read, in this process alone.
func (p *pacer) unshare(ctx context.Context, err error) {
	p.file = ""
	p.logf(ctx, "cloudflare: cannot share the API budget with other processes on this machine (%v); this one keeps its own count", err)
}

// A ledger's file holds ledgerMagic, then little-endian int64s: when it was
// written (Unix nanoseconds), keep (nanoseconds), the hold (Unix
// nanoseconds, 0 for none) and each booking (Unix nanoseconds, in order);
// then a CRC-32 of all that. Times are absolute, so a dead process's
// bookings age out as any others do.
const ledgerMagic = "DOMEBUD1"

// encode appends the ledger's file, written at now, to b.
func (l *ledger) encode(b []byte, now time.Time) []byte {
	start := len(b)
	b = append(b, ledgerMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(now.UnixNano()))
	b = binary.LittleEndian.AppendUint64(b, uint64(l.keep))
	var hold int64
	if !l.hold.IsZero() {
		hold = l.hold.UnixNano()
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(hold))
	for _, t := range l.sent {
		b = binary.LittleEndian.AppendUint64(b, uint64(t.UnixNano()))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// decode reads a ledger's file. Anything else reads as an empty ledger,
// which the next booking writes over: an empty or cut file (a crash
// between writing and truncating it, a full disk), garbage, or a ledger
// written after now, as after the clock was set back, which makes every
// time in it suspect.
func (l *ledger) decode(b []byte, now time.Time) {
	*l = ledger{sent: l.sent[:0]}
	const head = len(ledgerMagic) + 3*8
	n := len(b) - head - crc32.Size
	if n < 0 || n%8 != 0 || string(b[:len(ledgerMagic)]) != ledgerMagic ||
		crc32.ChecksumIEEE(b[:len(b)-crc32.Size]) != binary.LittleEndian.Uint32(b[len(b)-crc32.Size:]) {
		return
	}
	word := func(i int) int64 { return int64(binary.LittleEndian.Uint64(b[len(ledgerMagic)+8*i:])) }
	if word(0) > now.UnixNano() {
		return
	}
	l.keep = time.Duration(word(1))
	if hold := word(2); hold != 0 {
		l.hold = time.Unix(0, hold)
	}
	for i := range n / 8 {
		l.sent = append(l.sent, time.Unix(0, word(3+i)))
	}
}
