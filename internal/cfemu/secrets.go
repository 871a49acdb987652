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
func secretNotFound(name string) error {
	return refuse(http.StatusNotFound, 10056, "workers.api.error.binding_not_found: secret %q not found", name)
}

func (s *script) secretIndex(name string) int {
	return slices.IndexFunc(s.Bindings, func(b binding) bool { return b.str("type") == "secret_text" && b.str("name") == name })
}

// Secrets lists a script's secrets, without their text.
func (a *Account) Secrets(scriptName string) ([]secretView, error) {
	out := []secretView{}
	err := a.readScript(scriptName, func(s *script) {
		for _, b := range s.Bindings {
			if b.str("type") == "secret_text" {
				out = append(out, secretView{Name: b.str("name"), Type: "secret_text"})
			}
		}
	})
	return out, err
}

// Secret reads one secret of a script, without its text.
func (a *Account) Secret(scriptName, name string) (secretView, error) {
	var found bool
	err := a.readScript(scriptName, func(s *script) { found = s.secretIndex(name) >= 0 })
	if err == nil && !found {
		err = secretNotFound(name)
	}
	return secretView{Name: name, Type: "secret_text"}, err
}

// PutSecret adds or replaces one secret binding without an upload. typ may
// be empty or secret_text; a binding of another type under that name is
// refused, as Cloudflare does.
func (a *Account) PutSecret(scriptName, name string, text *string, typ string) (secretView, error) {
	err := a.update(func() error {
		return a.onScript(scriptName, func(s *script) error {
			switch {
			case name == "" || text == nil:
				return refuse(http.StatusBadRequest, 10021, "a secret needs a name and a text")
			case typ != "" && typ != "secret_text":
				return refuse(http.StatusBadRequest, 10021, "secret type %q is not supported; use secret_text", typ)
			}
			b := binding{"type": "secret_text", "name": name, "text": *text}
			// A new slice: views handed out earlier may share the old one.
			bindings := slices.Clone(s.Bindings)
			if i := s.secretIndex(name); i >= 0 {
				bindings[i] = b
			} else if slices.ContainsFunc(bindings, func(o binding) bool { return o.str("name") == name }) {
				return refuse(http.StatusBadRequest, 10053, "binding name %q is already in use by a binding of another type", name)
			} else {
				bindings = append(bindings, b)
			}
			s.Bindings, s.ModifiedOn = bindings, now()
			return nil
		})
	})
	return secretView{Name: name, Type: "secret_text"}, err
}

// DeleteSecret removes one secret binding.
func (a *Account) DeleteSecret(scriptName, name string) error {
	return a.update(func() error {
		return a.onScript(scriptName, func(s *script) error {
			i := s.secretIndex(name)
			if i < 0 {
				return secretNotFound(name)
			}
			s.Bindings = slices.Delete(slices.Clone(s.Bindings), i, i+1)
			s.ModifiedOn = now()
			return nil
		})
	})
}

// HTTP handlers.

func (e *Emulator) secretList(c *call) reply {
	return answer(e.acct.Secrets(c.r.PathValue("script")))
}

func (e *Emulator) secretGet(c *call) reply {
	return answer(e.acct.Secret(c.r.PathValue("script"), c.r.PathValue("secret")))
}

func (e *Emulator) secretPut(c *call, scriptName string) reply {
	var in struct {
		Name string  `json:"name"`
		Text *string `json:"text"`
		Type string  `json:"type"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	return answer(e.acct.PutSecret(scriptName, in.Name, in.Text, in.Type))
}

func (e *Emulator) secretDelete(c *call) reply {
	return done(e.acct.DeleteSecret(c.r.PathValue("script"), c.r.PathValue("secret")))
}
