package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// initdbArgs are the initdb options every cluster gets (after -D dir).
var initdbArgs = []string{"-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"}

// initCluster creates a data directory at data. initdb takes about a second, so its result is kept once per
// PostgreSQL build and OS user in a template directory under base and copied (a fraction of that);
// if anything about the template fails, initdb runs directly.
func initCluster(ctx context.Context, bin, base, data string, cred *syscall.Credential) error {
	if tmpl, err := template(ctx, bin, base, cred); err == nil {
		if err := copyTree(tmpl, data, cred); err == nil {
			return nil
		}
		os.RemoveAll(data)
	}
	return initdb(ctx, bin, data, cred)
}

func initdb(ctx context.Context, bin, data string, cred *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), append([]string{"-D", data}, initdbArgs...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Env = pgEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// template returns a pristine data directory for this PostgreSQL build, creating it on first use. Concurrent
// test binaries may race to create it: each builds its own and renames it into place, and losers discard theirs.
func template(ctx context.Context, bin, base string, cred *syscall.Credential) (string, error) {
	fi, err := os.Stat(filepath.Join(bin, "postgres"))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintln(h, "v1", bin, fi.Size(), fi.ModTime().UnixNano(), os.Geteuid(), initdbArgs)
	if cred != nil {
		fmt.Fprintln(h, cred.Uid, cred.Gid)
	}
	root := filepath.Join(base, "pgway-pgtest-templates")
	dir := filepath.Join(root, hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(root, "new-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	if cred != nil {
		if err := os.Chown(work, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", err
		}
	}
	if err := initdb(ctx, bin, filepath.Join(work, "data"), cred); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(work, "data"), dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "PG_VERSION")); statErr == nil {
			return dir, nil // another process won the race
		}
		return "", err
	}
	return dir, nil
}

// copyTree copies the directory src to dst (which must not exist) with its permissions, owned by cred's user
// when given.
func copyTree(src, dst string, cred *syscall.Credential) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected file type in template: %s (%v)", path, info.Mode().Type())
		}
		if cred != nil {
			return os.Lchown(target, int(cred.Uid), int(cred.Gid))
		}
		return nil
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := copySparse(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copySparse copies in to out, seeking over all-zero blocks instead of writing them: most of a fresh
// cluster's first WAL segment (16MB) is zeros.
func copySparse(out, in *os.File) error {
	buf := make([]byte, 64<<10)
	var size int64
	for {
		n, err := io.ReadFull(in, buf)
		if n > 0 {
			if isZero(buf[:n]) {
				if _, err := out.Seek(int64(n), io.SeekCurrent); err != nil {
					return err
				}
			} else if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
			size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return out.Truncate(size)
		}
		if err != nil {
			return err
		}
	}
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
