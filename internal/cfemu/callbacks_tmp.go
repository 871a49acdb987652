package cfemu

import "net/http"

func (e *Emulator) RuntimeCallbacks() http.Handler { return http.NewServeMux() }
