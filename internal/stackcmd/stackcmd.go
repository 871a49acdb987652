// Package stackcmd is the command line shared by the commands that act on
// one stack (import, db-status, recover, smoke): `-dir DIR`, the command's
// own flags, then the stack's name. A usage error exits 2; a failure
// prints "<command> <stack>: <error>" and exits 1; Ctrl-C cancels the
// work in flight rather than killing it midway.
package stackcmd

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

// Command is one such command line. Its flags are its own: the Pulumi SDK
// registers logging flags on the process-wide set, which a user of these
// commands has no use for.
type Command struct {
	*flag.FlagSet
	name string
	dir  *string
}

// New starts the command line of the command called name; usage is the
// synopsis after "usage: ", e.g. "import [-dir DIR] [-out FILE] STACK".
// Define the command's own flags on the result, then call Run.
func New(name, usage string) *Command {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: "+usage)
		fs.PrintDefaults()
	}
	return &Command{FlagSet: fs, name: name, dir: fs.String("dir", ".", "the folder holding Pulumi.yaml")}
}

// Run parses the process's arguments and calls run with the project folder
// and the stack, then exits as the package comment says.
func (c *Command) Run(run func(ctx context.Context, dir, stack string) error) {
	_ = c.Parse(os.Args[1:]) // ExitOnError: a bad flag has exited with 2
	if c.NArg() != 1 {
		c.Usage()
		os.Exit(2)
	}
	stack := c.Arg(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, *c.dir, stack)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s %s: %v\n", c.name, stack, err)
		os.Exit(1)
	}
}
