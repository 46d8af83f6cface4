package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// configHelp ends the usage text of every command that reads the configuration.
const configHelp = `Configuration as for pgway serve: CONFIG_FILE (PostgREST format) < PGRST_* environment < flags; any
--key=value flag that is not the command's own sets that configuration key (--db-uri, --db-schemas, …).`

// parseArgs splits a subcommand's arguments, which may come in any order. The command's own flags (those
// defined on fs) are set there; any other -key=value, --key=value or --key value is a configuration flag for
// config.Load, named by aliases when it has an older name (openapi's --version is openapi-version); the rest
// are positional. "--" ends the flags; -h, -help and --help return flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, aliases map[string]string, args []string) (pos []string, cfg map[string]string, err error) {
	cfg = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), cfg, nil
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if name == "h" || name == "help" {
			return nil, nil, flag.ErrHelp
		}
		own := fs.Lookup(name)
		if own != nil && !hasValue {
			if b, ok := own.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				value, hasValue = "true", true
			}
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("flag -%s needs a value", strings.TrimLeft(a, "-"))
			}
			i++
			value = args[i]
		}
		if own != nil {
			if err := fs.Set(name, value); err != nil {
				return nil, nil, fmt.Errorf("flag -%s: %v", name, err)
			}
			continue
		}
		if key, ok := aliases[name]; ok {
			name = key
		}
		cfg[name] = value
	}
	return pos, cfg, nil
}

// argsError reports a parseArgs error of the subcommand name and returns the exit status: 0 after printing the
// usage for -h, 2 otherwise.
func argsError(name string, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, commands[name].usage)
		return 0
	}
	fmt.Fprintf(stderr, "pgway %s: %v\n", name, err)
	return 2
}

// configFile takes the first positional argument as the config file when it is not one of the command's
// words (actions) and names a file; it returns the file ("" for none) and the other positional arguments.
func configFile(pos []string, actions ...string) (string, []string) {
	if len(pos) == 0 {
		return "", pos
	}
	for _, a := range actions {
		if pos[0] == a {
			return "", pos
		}
	}
	if st, err := os.Stat(pos[0]); err == nil && !st.IsDir() {
		return pos[0], pos[1:]
	}
	return "", pos
}
