// Command diagram draws a stack's topology from its configuration files,
// offline (no Pulumi CLI, no network, no credentials, no sources): Mermaid
// text, which GitHub renders in Markdown, and an SVG drawn by Graphviz's
// dot. Given what `pulumi preview --json` printed, it marks what the
// preview would create, update, replace and delete, and fades the rest.
//
//	go run ./cmd/diagram [-dir DIR] [-preview FILE] [-out BASE] [-markdown FILE] [-readme FILE] STACK
//
// With none of -out, -markdown and -readme it prints the Mermaid text.
// -out BASE writes BASE.mmd and BASE.svg; where dot is missing it still
// writes BASE.mmd, then fails saying how to install dot. -markdown writes
// the report CI shows. -readme puts the Mermaid text in the ```mermaid
// block that follows the line <!-- topology --> in that file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/diagram"
	"github.com/dome/infra/internal/stackcmd"
)

// outputs is what to draw from and where to write it.
type outputs struct {
	preview  string // JSON of pulumi preview --json; "-" for stdin
	out      string // BASE of BASE.mmd and BASE.svg
	markdown string
	readme   string
}

func main() {
	cmd := stackcmd.New("diagram", "diagram [-dir DIR] [-preview FILE] [-out BASE] [-markdown FILE] [-readme FILE] STACK")
	var o outputs
	cmd.StringVar(&o.preview, "preview", "", "mark the changes of this `pulumi preview --json` output (- reads stdin)")
	cmd.StringVar(&o.out, "out", "", "write BASE.mmd and BASE.svg instead of printing the Mermaid text")
	cmd.StringVar(&o.markdown, "markdown", "", "write a Markdown report (heading, Mermaid block, changes) to this file")
	cmd.StringVar(&o.readme, "readme", "", "put the Mermaid text in this file's ```mermaid block after the line "+readmeMarker)
	cmd.Run(func(ctx context.Context, dir, stack string) error {
		return run(ctx, os.Stdout, os.Stdin, dir, stack, o)
	})
}

func run(ctx context.Context, w io.Writer, stdin io.Reader, dir, stack string, o outputs) error {
	cfg, err := config.LoadTopology(dir, stack)
	if err != nil {
		return err
	}
	var preview *diagram.Preview
	if o.preview != "" {
		if preview, err = readPreview(o.preview, stdin); err != nil {
			return err
		}
	}
	p := diagram.New(cfg.Graph(), preview)
	mermaid := diagram.Mermaid(p)
	if o.out == "" && o.markdown == "" && o.readme == "" {
		_, err := io.WriteString(w, mermaid)
		return err
	}
	write := func(path, content string) error {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(w, "wrote", path)
		return nil
	}
	if o.markdown != "" {
		if err := write(o.markdown, diagram.Markdown(p)); err != nil {
			return err
		}
	}
	if o.readme != "" {
		doc, err := os.ReadFile(o.readme)
		if err != nil {
			return err
		}
		embedded, err := embed(string(doc), mermaid)
		if err != nil {
			return fmt.Errorf("%s: %w", o.readme, err)
		}
		if err := write(o.readme, embedded); err != nil {
			return err
		}
	}
	if o.out != "" {
		if err := write(o.out+".mmd", mermaid); err != nil {
			return err
		}
		svg, err := diagram.SVG(ctx, p)
		if err != nil {
			return err
		}
		if err := write(o.out+".svg", string(svg)); err != nil {
			return err
		}
	}
	return nil
}

func readPreview(path string, stdin io.Reader) (*diagram.Preview, error) {
	if path == "-" {
		return diagram.ReadPreview(stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := diagram.ReadPreview(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// readmeMarker is the line after which a document holds the picture.
const readmeMarker = "<!-- topology -->"

// embed replaces the ```mermaid block that follows readmeMarker in doc.
func embed(doc, mermaid string) (string, error) {
	const open, close = "```mermaid\n", "```\n"
	before, after, ok := strings.Cut(doc, readmeMarker+"\n")
	if !ok {
		return "", errors.New("no line " + readmeMarker + " to put the picture after")
	}
	if !strings.HasPrefix(after, open) {
		return "", errors.New("the line " + readmeMarker + " is not followed by a ```mermaid block")
	}
	_, rest, ok := strings.Cut(after[len(open):], close)
	if !ok {
		return "", errors.New("the ```mermaid block after " + readmeMarker + " does not end")
	}
	return before + readmeMarker + "\n" + open + mermaid + close + rest, nil
}
