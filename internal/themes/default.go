package themes

// Default is the dictionary for contact centers, in English, Spanish,
// German, French and Portuguese. A configuration replaces it whole
// (`themes:`); this one is the starting point.
func Default() []Theme {
	return []Theme{
		{Name: "waiting", Label: "Waiting and hold time", Negatable: true, Terms: []string{
			"wait*", "on hold", "hold time", "held", "queue*", "took forever", "too long", "ages", "long time",
			"esper*", "en espera", "cola", "tard*", // es
			"wart*", "warteschleife", "dauerte", "lange", // de
			"attend*", "attente", // fr
			"demor*", // pt, es
		}},
		{Name: "callbacks", Label: "Call-backs", Terms: []string{
			"call* back", "call* me back", "callback*", "call-back*", "ring* back", "get back to me", "got back to me", "follow up", "follow-up",
			"devolv* la llamada", "llamar de vuelta", "me llam*", // es
			"ruckruf*", "zuruckgerufen", "zuruckrufen", // de
			"rappel*", // fr
			"retorn*", // pt
		}},
		{Name: "transfers", Label: "Transfers", Negatable: true, Terms: []string{
			"transfer*", "passed around", "passed from", "bounced", "put through", "another department", "different department", "three times", "explain* again", "repeat* myself",
			"transfir*", "otro departamento", // es
			"weitergeleitet", "weiterverbunden", // de
			"transfere*", "un autre service", // fr, pt
		}},
		{Name: "billing", Label: "Billing errors", Terms: []string{
			"bill*", "charg*", "overcharg*", "invoice*", "refund*", "double charged", "charged twice", "payment*", "fee", "fees", "price*",
			"factur*", "cobr*", "reembolso*", "cargo*", // es, pt
			"rechnung*", "abgebucht", "gebuhr*", "erstattung*", // de
			"rembours*", "prelev*", // fr
		}},
		{Name: "rudeness", Label: "Rudeness", Negatable: true, Terms: []string{
			"rude*", "impolite", "unfriendly", "disrespect*", "condescend*", "arrogant", "hung up", "yell*", "shout*", "dismissive",
			"grosero*", "maleducad*", "borde", // es
			"unfreundlich*", "unhoflich*", "frech*", // de
			"impoli*", "desagreable*", // fr
			"mal educad*", "grosseir*", // pt
		}},
		{Name: "unresolved", Label: "Unresolved issue", Terms: []string{
			"not resolved", "unresolved", "not fixed", "still not", "still broken", "still waiting", "didnt fix", "didnt solve", "didnt help", "no solution", "same problem", "nobody can tell", "nothing was done",
			"sin resolver", "no resuelto", "no se soluciono", "sigue sin", // es
			"nicht gelost", "ungelost", "immer noch nicht", "keine losung", // de
			"pas resolu", "toujours pas", "aucune solution", // fr
			"nao resolv*", "sem solucao", // pt
		}},
		{Name: "praise", Label: "Praise", Negatable: true, Terms: []string{
			"helpful", "friendly", "great", "excellent", "amazing", "fantastic", "thank*", "patient", "professional", "quick*", "fast", "easy",
			"amable*", "excelente", "gracias", "rapid*", // es, pt
			"freundlich*", "hilfsbereit*", "danke", "schnell*", // de
			"aimable*", "merci", "efficace*", // fr
			"obrigad*", "otimo", // pt
		}},
	}
}
