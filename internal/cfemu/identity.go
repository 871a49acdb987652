package cfemu

// tokenID is the fixed id the emulator reports for its one token.
const tokenID = "cfe0000000000000000000000000001d"

func (e *Emulator) verifyToken(*call) reply {
	return ok(map[string]any{"id": tokenID, "status": "active"})
}

// accountName is the name of the one account the emulator serves.
const accountName = "Dome emulator account"

func (e *Emulator) getAccount(*call) reply {
	return ok(map[string]any{
		"id":         e.cfg.AccountID,
		"name":       accountName,
		"type":       "standard",
		"settings":   map[string]any{"enforce_twofactor": false},
		"created_on": "2024-01-01T00:00:00.000000Z",
	})
}
