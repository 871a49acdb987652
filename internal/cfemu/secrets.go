package cfemu

import (
	"net/http"
	"slices"
)

// secretView is a secret as Cloudflare lists it: its name and type, never its text.
type secretView struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// secretNotFound answers an unknown secret with 404; the code is the
// emulator's choice, as Cloudflare's for this case is not documented.
func secretNotFound(name string) reply {
	return fail(http.StatusNotFound, 10056, "workers.api.error.binding_not_found: secret %q not found", name)
}

func (s *script) secretIndex(name string) int {
	return slices.IndexFunc(s.Bindings, func(b binding) bool { return b.str("type") == "secret_text" && b.str("name") == name })
}

func (e *Emulator) secretList(c *call, s *script) reply {
	out := []secretView{}
	for _, b := range s.Bindings {
		if b.str("type") == "secret_text" {
			out = append(out, secretView{Name: b.str("name"), Type: "secret_text"})
		}
	}
	return ok(out)
}

func (e *Emulator) secretGet(c *call, s *script) reply {
	if s.secretIndex(c.r.PathValue("secret")) < 0 {
		return secretNotFound(c.r.PathValue("secret"))
	}
	return ok(secretView{Name: c.r.PathValue("secret"), Type: "secret_text"})
}

// secretPut adds or replaces one secret binding without an upload. A
// binding of another type under that name is refused, as Cloudflare does.
func (e *Emulator) secretPut(c *call, s *script) reply {
	var in struct {
		Name string  `json:"name"`
		Text *string `json:"text"`
		Type string  `json:"type"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	switch {
	case in.Name == "" || in.Text == nil:
		return fail(http.StatusBadRequest, 10021, "a secret needs a name and a text")
	case in.Type != "" && in.Type != "secret_text":
		return fail(http.StatusBadRequest, 10021, "secret type %q is not supported; use secret_text", in.Type)
	}
	b := binding{"type": "secret_text", "name": in.Name, "text": *in.Text}
	if i := s.secretIndex(in.Name); i >= 0 {
		s.Bindings[i] = b
	} else if slices.ContainsFunc(s.Bindings, func(o binding) bool { return o.str("name") == in.Name }) {
		return fail(http.StatusBadRequest, 10053, "binding name %q is already in use by a binding of another type", in.Name)
	} else {
		s.Bindings = append(s.Bindings, b)
	}
	s.ModifiedOn = now()
	return ok(secretView{Name: in.Name, Type: "secret_text"})
}

func (e *Emulator) secretDelete(c *call, s *script) reply {
	i := s.secretIndex(c.r.PathValue("secret"))
	if i < 0 {
		return secretNotFound(c.r.PathValue("secret"))
	}
	s.Bindings = slices.Delete(s.Bindings, i, i+1)
	s.ModifiedOn = now()
	return ok(nil)
}
