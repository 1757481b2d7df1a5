package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// What the demo's customers write. Detractors complain about the themes of
// the default dictionary (internal/themes/default.go: waiting, callbacks,
// transfers, billing, rudeness, unresolved), in English mostly and in
// Spanish, German, French and Portuguese; some sentences carry two themes,
// some deny one ("not rude at all"), some praise the agent all the same.
// Promoters praise. Every sentence lists the themes the default dictionary
// finds in it, and TestSentencesMatchTheirThemes holds them to it.
//
// The mix of a detractor's complaint drifts through the day, so the
// themes tile and the emerging-theme alert move: hold time follows how
// busy the center is, billing complaints rise from 13:00 to 16:00 (the
// afternoon's billing run went wrong: a billing incident), and tech
// support transfers more in the evening, when its second line has gone
// home.

// sentence is one comment and the themes it carries.
type sentence struct {
	text   string // may hold one %s: the agent's first name
	themes []string
}

func s(text string, themes ...string) sentence { return sentence{text, themes} }

// Languages and their share of the comments.
var languages = []struct {
	code   string
	weight float64
}{{"en", 0.75}, {"es", 0.08}, {"de", 0.07}, {"fr", 0.05}, {"pt", 0.05}}

// byLanguage holds the sentences of one kind per language; a language
// without any falls back to English.
type byLanguage map[string][]sentence

// noTheme is the key of detractor complaints the dictionary has no theme
// for.
const noTheme = ""

var detractorSentences = map[string]byLanguage{
	"waiting": {
		"en": {
			s("Waited 40 minutes on hold before anyone answered.", "waiting"),
			s("The hold time was over half an hour, again.", "waiting"),
			s("Stuck in the queue for ages.", "waiting"),
			s("It took forever to reach a person.", "waiting"),
			s("Forty minutes on hold just to change my address.", "waiting"),
			s("The agent was not rude at all, but I waited 35 minutes on hold.", "waiting"),
			s("Nobody was rude, the wait was just far too long.", "waiting"),
		},
		"es": {
			s("Estuve 40 minutos en espera y nadie contestó.", "waiting"),
			s("Demasiado tiempo esperando para una consulta sencilla.", "waiting"),
		},
		"de": {
			s("Über 30 Minuten in der Warteschleife.", "waiting"),
			s("Die Wartezeit war viel zu lang.", "waiting"),
		},
		"fr": {
			s("J'ai attendu 45 minutes avant de parler à quelqu'un.", "waiting"),
			s("Le conseiller n'était pas impoli, mais j'ai attendu une heure.", "waiting"),
		},
		"pt": {
			s("Demorou mais de meia hora para me atenderem.", "waiting"),
		},
	},
	"callbacks": {
		"en": {
			s("Nobody called me back as promised.", "callbacks"),
			s("They promised a call back within the hour. Nothing.", "callbacks"),
			s("I asked for a callback twice and never got one.", "callbacks"),
			s("No one ever got back to me about my complaint.", "callbacks"),
		},
		"es": {s("Me dijeron que me devolverían la llamada y nunca lo hicieron.", "callbacks")},
		"de": {s("Der versprochene Rückruf kam nie.", "callbacks")},
		"fr": {s("On devait me rappeler, personne ne l'a fait.", "callbacks")},
		"pt": {s("Prometeram retornar a ligação e nada.", "callbacks")},
	},
	"transfers": {
		"en": {
			s("I was transferred three times and had to start over each time.", "transfers"),
			s("Passed around between departments for an hour.", "transfers"),
			s("Got bounced to another department that could not help.", "transfers"),
			s("Every new agent made me repeat myself.", "transfers"),
		},
		"es": {s("Me transfirieron a otro departamento tres veces.", "transfers")},
		"de": {s("Ich wurde dreimal weitergeleitet.", "transfers")},
		"fr": {s("On m'a transféré vers un autre service.", "transfers")},
		"pt": {s("Fui transferido para outro setor duas vezes.", "transfers")},
	},
	"billing": {
		"en": {
			s("I was charged twice and nobody can tell me why.", "billing", "unresolved"),
			s("My bill doubled this month with no explanation.", "billing"),
			s("Still waiting for the refund I was promised.", "billing", "unresolved", "waiting"),
			s("Wrong invoice again, with a fee I never agreed to.", "billing"),
			s("Overcharged on my last payment.", "billing"),
			s("%s was friendly, but my refund is still not there.", "billing", "praise", "unresolved"),
		},
		"es": {s("Me cobraron dos veces la factura de noviembre.", "billing")},
		"de": {s("Auf der Rechnung steht ein falscher Betrag.", "billing")},
		"fr": {s("On m'a prélevé deux fois ce mois-ci.", "billing")},
		"pt": {s("Fui cobrado duas vezes e ninguém explicou.", "billing")},
	},
	"rudeness": {
		"en": {
			s("The agent was rude and hung up on me.", "rudeness"),
			s("Condescending tone from start to finish.", "rudeness"),
			s("%s was dismissive and would not listen.", "rudeness"),
		},
		"es": {s("El agente fue un maleducado.", "rudeness")},
		"de": {s("Der Mitarbeiter war sehr unfreundlich.", "rudeness")},
		"fr": {s("Conseiller impoli et pressé.", "rudeness")},
		"pt": {s("O atendente foi grosseiro comigo.", "rudeness")},
	},
	"unresolved": {
		"en": {
			s("Still not fixed after two calls.", "unresolved"),
			s("Three calls and the same problem.", "unresolved"),
			s("Nothing was done about my complaint.", "unresolved"),
			s("The agent tried, but it didn't fix anything.", "unresolved"),
			s("No wait at all, but the problem is not resolved.", "unresolved"),
		},
		"es": {
			s("Mi problema sigue sin resolver.", "unresolved"),
			s("No esperé mucho, pero sigue sin funcionar.", "unresolved"),
		},
		"de": {
			s("Das Problem ist immer noch nicht gelöst.", "unresolved"),
			s("Die Dame war nicht unfreundlich, aber das Problem ist ungelöst.", "unresolved"),
		},
		"fr": {s("Mon problème n'est toujours pas résolu.", "unresolved")},
		"pt": {s("Até agora não resolveram o meu problema.", "unresolved")},
	},
	noTheme: {
		"en": {
			s("The app keeps logging me out."),
			s("Your website is confusing."),
			s("Not impressed."),
		},
		"es": {s("La aplicación no funciona.")},
		"de": {s("Die App stürzt ständig ab.")},
		"fr": {s("Le site est incompréhensible.")},
		"pt": {s("O aplicativo não funciona.")},
	},
}

var promoterSentences = byLanguage{
	"en": {
		s("%s sorted it out in one call, thank you!", "praise"),
		s("Quick and friendly, exactly what I needed.", "praise"),
		s("Really appreciated that %s called me back, very professional.", "callbacks", "praise"),
		s("Best support experience I have had in years, so helpful.", "praise"),
		s("Hardly any wait and a great agent.", "praise"),
		s("%s was patient and explained everything clearly.", "praise"),
		s("Not rude at all, %s was lovely and helpful.", "praise"),
	},
	"es": {s("Muy amable y rápido, gracias.", "praise")},
	"de": {s("Sehr freundlich und schnell, danke!", "praise")},
	"fr": {s("Conseiller très aimable et efficace, merci.", "praise")},
	"pt": {s("Atendimento ótimo, muito obrigado!", "praise")},
}

var passiveSentences = byLanguage{
	"en": {
		s("Fine, but the queue was long.", "waiting"),
		s("Problem solved, the hold time was annoying though.", "waiting"),
		s("OK overall."),
		s("Helpful in the end, but I was transferred once.", "praise", "transfers"),
	},
	"es": {s("Bien, aunque la espera fue larga.", "waiting")},
	"de": {s("Alles in Ordnung.")},
	"fr": {s("Correct, sans plus.")},
	"pt": {s("Tudo certo, mas demorou um pouco.", "waiting")},
}

// Hours of the drifting themes, local time.
const (
	billingIncidentFrom, billingIncidentTo   = 13, 16 // [from, to)
	eveningTransfersFrom, eveningTransfersTo = 17, 21
	eveningTransfersTeam                     = "tech-support"
)

// complaintWeights is the mix of a detractor's complaint at a local hour in
// a team: what the customer is unhappy about, before the words.
func complaintWeights(hour int, team string) []weighted {
	billing := 0.08
	if team == "billing" || team == "retention" {
		billing = 0.14
	}
	if hour >= billingIncidentFrom && hour < billingIncidentTo {
		billing = 0.45
	}
	transfers := 0.08
	if team == eveningTransfersTeam && hour >= eveningTransfersFrom && hour < eveningTransfersTo {
		transfers = 0.45
	}
	return []weighted{
		// Hold time follows the traffic: a quarter of the complaints
		// at night, nearly half at the peak.
		{"waiting", 0.05 + 0.35*busyness(hour)},
		{"callbacks", 0.10},
		{"transfers", transfers},
		{"billing", billing},
		{"rudeness", 0.06},
		{"unresolved", 0.16},
		{noTheme, 0.08},
	}
}

type weighted struct {
	name   string
	weight float64
}

// draw picks a name by weight (the weights need not sum to 1).
func draw(rng *rand.Rand, ws []weighted) string {
	total := 0.0
	for _, w := range ws {
		total += w.weight
	}
	x := rng.Float64() * total
	for _, w := range ws {
		if x < w.weight {
			return w.name
		}
		x -= w.weight
	}
	return ws[len(ws)-1].name
}

// language picks a comment's language.
func (g *Generator) language() string {
	return pick(g.rng, languages, func(l struct {
		code   string
		weight float64
	}) float64 {
		return l.weight
	}).code
}

func (g *Generator) sentenceOf(pool byLanguage) sentence {
	ss := pool[g.language()]
	if len(ss) == 0 {
		ss = pool["en"]
	}
	return ss[g.rng.IntN(len(ss))]
}

// comment is what a customer of score writes about agentName's team at a
// local hour, and the themes it carries.
func (g *Generator) comment(score int, agentName, team string, hour int) (string, []string) {
	var sn sentence
	switch {
	case score >= 9:
		sn = g.sentenceOf(promoterSentences)
	case score >= 7:
		sn = g.sentenceOf(passiveSentences)
	default:
		sn = g.sentenceOf(detractorSentences[draw(g.rng, complaintWeights(hour, team))])
	}
	first, _, _ := strings.Cut(agentName, " ")
	if strings.Contains(sn.text, "%s") {
		return fmt.Sprintf(sn.text, first), sn.themes
	}
	return sn.text, sn.themes
}
