package formatter

import (
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
)

// TestBoilerplateNewsroomFooters: lines Arabic news sites put under every story — copyright
// lines, "follow our latest news on Telegram", "download our app", newsletter prompts, tag and
// related-story headers — are boilerplate, and a story's own sentences that merely name a network
// or a right are not. A short breaking story (one paragraph) is where they leaked: its summary
// takes the next paragraphs while they fit.
func TestBoilerplateNewsroomFooters(t *testing.T) {
	footers := []string{
		"جميع الحقوق محفوظة © 2024 موقع الدفاع العربي",
		"© 2024 الجزيرة. جميع الحقوق محفوظة",
		"حقوق النشر محفوظة لموقع العربية 2024",
		"© 2024 Al Arabiya. All Rights Reserved.",
		"Copyright © 2024 Sky News Arabia",
		"لمتابعة آخر الأخبار تابعونا على تلغرام",
		"لمتابعة أهم الأخبار اشترك في قناتنا على واتساب",
		"تابعوا آخر الأخبار عبر قناتنا على تيليجرام",
		"تابع أحدث الأخبار عبر تطبيق واتساب",
		"حمّل تطبيق العربية لمتابعة آخر الأخبار",
		"اشترك في النشرة البريدية",
		"للاشتراك في قناتنا على يوتيوب اضغط هنا",
		"اضغط هنا لمتابعة قناتنا على واتساب",
		"انضم إلى قناة الجزيرة على واتساب",
		"يمكنكم متابعة آخر الأخبار عبر حسابنا على تويتر",
		"طالع أيضا: زيلينسكي يزور واشنطن",
		"Sign up for our newsletter",
		"Click here to subscribe",
		"كلمات دلالية",
		"الوسوم: أوكرانيا، روسيا",
		"مواضيع ذات صلة",
		"أخبار ذات صلة",
		"الأكثر قراءة",
	}
	for _, f := range footers {
		if !isBuiltinBoilerplate(f) {
			t.Errorf("not seen as boilerplate: %q", f)
		}
	}
	story := []string{
		"قال ماسك إن تويتر سيغير اسمه إلى إكس خلال أيام.",
		"وأعلنت شركة ميتا أن عدد مستخدمي واتساب تجاوز ملياري مستخدم.",
		"تابع الرئيس الاجتماع عبر الفيديو من مقر الحكومة.",
		"وأكد أن الدستور يضمن جميع الحقوق للمواطنين دون تمييز.",
		"حقوق الإنسان في غزة محور اجتماع مجلس الأمن اليوم.",
		"انضم اللاعب إلى نادي الهلال السعودي في صفقة قياسية.",
		"وحظرت الحكومة تطبيق تيك توك على الأجهزة الرسمية.",
		"Copyright lawsuits against AI firms multiply in the US.",
		"الوسطاء يقترحون هدنة جديدة في غزة.",
	}
	for _, s := range story {
		if isBuiltinBoilerplate(s) {
			t.Errorf("a story's sentence seen as boilerplate: %q", s)
		}
	}

	// Through a render: a one-paragraph breaking story followed by a site's footer.
	a := &article.Article{
		URL: "https://example.com/breaking", Language: "ar", Title: "عاجل: زلزال بقوة 6 درجات يضرب جنوب تركيا",
		Body: "<p>ضرب زلزال بقوة 6 درجات على مقياس ريختر جنوب تركيا فجر اليوم، وفق هيئة الكوارث.</p>" +
			"<p>لمتابعة آخر الأخبار تابعونا على تلغرام</p><p>حمّل تطبيق العربية لمتابعة آخر الأخبار</p>" +
			"<p>كلمات دلالية</p><p>© 2024 العربية. جميع الحقوق محفوظة</p>",
	}
	for _, kind := range []channels.Kind{channels.KindTelegram, channels.KindWhatsApp, channels.KindFacebook} {
		r, _ := New(kind, Options{})
		p := mustRender(t, r, a)
		for _, leak := range []string{"تابعونا", "تطبيق", "دلالية", "محفوظة"} {
			if strings.Contains(p.Text, leak) {
				t.Errorf("%s: footer %q leaked into the post:\n%s", kind, leak, p.Text)
			}
		}
		if !strings.Contains(p.Text, "هيئة الكوارث") {
			t.Errorf("%s: the story itself is gone:\n%s", kind, p.Text)
		}
	}
}

// TestBoilerplateKeepsNewsAboutNetworks: Arabic writes the past tense and the imperative of
// تابع (followed / follow), انضم (joined / join), اشترك (subscribed / subscribe), حمل (carried /
// download) alike, and English news uses follow and join as verbs too. A short news sentence with
// one of them and a network ("تابع الملايين حفل الافتتاح عبر يوتيوب": millions followed the
// opening on YouTube) was taken for a "follow us" prompt and dropped: from the body, and from
// the editor's own summary, which then vanished from the post. Such a verb is a call only when
// the line also addresses the reader (our channel, now, here, the latest news).
func TestBoilerplateKeepsNewsAboutNetworks(t *testing.T) {
	news := []string{
		"تابع الملايين حفل افتتاح كأس العالم عبر يوتيوب.",
		"انضم أكثر من مليون مستخدم جديد إلى تيليجرام خلال يوم واحد.",
		"حمل المتظاهرون لافتات تنتقد فيسبوك وتويتر.",
		"اشترك خمسة ملايين شخص في خدمة يوتيوب بريميوم.",
		"تابعوا المباراة عبر يوتيوب حتى الفجر.",
		"Twitter to follow EU rules on illegal content.",
		"Meta will join Facebook and Instagram accounts.",
	}
	for _, s := range news {
		if isBuiltinBoilerplate(s) {
			t.Errorf("a news sentence seen as boilerplate: %q", s)
		}
	}
	prompts := []string{
		"تابع أحدث الأخبار عبر تطبيق واتساب",
		"انضم إلى قناة الجزيرة على واتساب",
		"اشترك الآن في قناتنا على يوتيوب",
		"تابعوا صفحتنا على فيسبوك",
		"انضموا إلينا على تيليجرام",
		"حمّل التطبيق مجانا من متجر جوجل واتابعنا على تويتر",
		"Follow our channel on WhatsApp",
		"Join us on Telegram",
		"Subscribe to our YouTube channel",
		"Download our app and follow the latest news on Telegram",
	}
	for _, s := range prompts {
		if !isBuiltinBoilerplate(s) {
			t.Errorf("a follow prompt not seen as boilerplate: %q", s)
		}
	}
	r, _ := New(channels.KindTelegram, Options{})
	a := &article.Article{URL: "https://example.com/a", Language: "ar", Title: "افتتاح كأس العالم",
		Summary: news[0], Body: "<p>" + news[0] + "</p><p>وأقيم الحفل في الملعب الرئيسي.</p>"}
	if p := mustRender(t, r, a); !strings.Contains(p.Text, "تابع الملايين") {
		t.Errorf("the editor's summary was dropped as boilerplate:\n%s", p.Text)
	}
}
