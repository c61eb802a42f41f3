package formatter

// Helpers for text herald writes itself in Telegram HTML (the admin bot's replies), so it is
// escaped and directed exactly as the posts are.

// TelegramEscape escapes text for Telegram's HTML parse mode (< > & and quotes): a title with
// "<" or "&" cannot break the message.
// Specs: https://core.telegram.org/bots/api#html-style
func TelegramEscape(s string) string { return telegramEscape(s) }

// PlainTitle is an article title as the posts show it: HTML tags dropped, entities decoded,
// whitespace and invisible characters cleaned (a CMS may send a rendered title such as
// "&#8220;قمة&#8221; <b>عاجل</b>").
func PlainTitle(s string) string { return inlineText(s) }

// Isolate wraps s in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE (U+2068, U+2069): an Arabic
// title inside an English line, or a Latin id inside an Arabic one, keeps its own direction and
// does not reorder the punctuation around it.
// Specs: https://www.unicode.org/reports/tr9/#Explicit_Directional_Isolates
func Isolate(s string) string {
	if s == "" {
		return s
	}
	return "\u2068" + s + "\u2069"
}

// RTLLines starts every line of Telegram HTML text whose first strong character is Latin or a
// digit with an RLM, so a right-to-left reply keeps its direction line by line.
func RTLLines(html string) string { return addRLMs(html, markupHTML) }

// IsRTL reports whether text in language lang (or, with no language, text whose letters are
// mostly right-to-left ones) reads right to left.
func IsRTL(lang, text string) bool { return isRTL(lang, text) }
