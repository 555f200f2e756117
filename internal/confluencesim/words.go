package confluencesim

// language is a small vocabulary for one script. Sentences are built by
// joining words with sep and ending them with stop.
type language struct {
	code  string
	words []string
	sep   string
	stop  string
}

// The vocabularies below were written for this simulator. None contains the
// characters &, <, > or ", so text can go into XHTML unescaped.
var languages = []language{
	{code: "en", sep: " ", stop: ".", words: []string{
		"deploy", "service", "cluster", "latency", "budget", "review", "owner",
		"customer", "roadmap", "incident", "release", "database", "schema",
		"migration", "dashboard", "alert", "quarter", "metric", "backlog",
		"retry", "timeout", "gateway", "cache", "payment", "invoice", "search",
		"index", "partition", "replica", "handover", "checklist", "runbook",
		"the", "a", "for", "with", "after", "before", "during", "and", "or",
		"team", "platform", "mobile", "web", "api", "storage", "network",
		"policy", "approval", "vendor", "contract", "training", "hiring",
	}},
	{code: "ja", sep: "", stop: "。", words: []string{
		"設計", "レビュー", "会議", "議事録", "障害", "対応", "手順", "確認",
		"本番", "環境", "リリース", "予定", "担当", "顧客", "要件", "仕様",
		"テスト", "結果", "改善", "の", "を", "に", "は", "が", "と",
	}},
	{code: "ru", sep: " ", stop: ".", words: []string{
		"сервер", "релиз", "проверка", "команда", "задача", "отчёт", "план",
		"клиент", "данные", "ошибка", "решение", "встреча", "итоги", "база",
		"доступ", "и", "для", "после", "в", "на", "с",
	}},
	{code: "ar", sep: " ", stop: ".", words: []string{
		"الخادم", "الإصدار", "الفريق", "المشروع", "العميل", "البيانات",
		"الخطة", "التقرير", "الاجتماع", "المراجعة", "في", "من", "إلى", "مع",
	}},
	{code: "el", sep: " ", stop: ".", words: []string{
		"διακομιστής", "έκδοση", "ομάδα", "έργο", "πελάτης", "δεδομένα",
		"σχέδιο", "αναφορά", "σύσκεψη", "έλεγχος", "και", "για", "με", "στο",
	}},
	{code: "de", sep: " ", stop: ".", words: []string{
		"Übergabe", "Prüfung", "Größe", "Kunde", "Lösung", "Besprechung",
		"Änderung", "Schnittstelle", "Störung", "Zuständigkeit", "und", "für",
		"mit", "nach", "über",
	}},
	{code: "zh", sep: "", stop: "。", words: []string{
		"部署", "服务", "团队", "客户", "数据", "计划", "报告", "会议", "问题",
		"解决", "版本", "测试", "的", "和", "在",
	}},
	{code: "ko", sep: " ", stop: ".", words: []string{
		"배포", "서비스", "팀", "고객", "데이터", "계획", "보고서", "회의",
		"문제", "해결", "버전", "테스트",
	}},
}

// langWeights makes English the main language of most content.
var langWeights = []int{0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7}

var headings = []string{
	"Overview", "Background", "Decisions", "Open questions", "Next steps",
	"Timeline", "Risks", "How to roll back", "Contacts", "Glossary",
	"概要", "Обзор", "Επισκόπηση", "نظرة عامة", "Überblick",
}

var titleTemplates = []string{
	"Runbook %d: %s",
	"%s retrospective %d",
	"Meeting notes %d — %s",
	"Design review %d: %s",
	"%s onboarding, part %d",
	"議事録 %d %s",
	"Отчёт %d: %s",
	"Σημειώσεις %d %s",
	"%s FAQ #%d",
	"How we handle %s (%d)",
}

var titleTopics = []string{
	"payments", "search", "billing", "mobile app", "data platform",
	"on-call", "security", "Kafka", "identity", "support", "design system",
	"release train", "observability", "hiring", "finance",
}

var blogTemplates = []string{
	"Weekly update %d from %s",
	"What shipped in %s, issue %d",
	"%s: lessons learned (%d)",
	"Announcing %s v%d",
}

var emoticons = []string{
	"smile", "sad", "cheeky", "laugh", "wink", "thumbs-up", "thumbs-down",
	"information", "tick", "cross", "warning", "plus", "minus", "question",
	"light-on", "yellow-star", "heart",
}

var unicodeEmoji = []string{"🚀", "✅", "⚠️", "🔥", "🎉", "📌", "🐛", "👍", "🤔", "☕"}

var codeSamples = []struct{ lang, code string }{
	{"go", "func retry(ctx context.Context) error {\n\tfor i := 0; i < 3; i++ {\n\t\tif err := call(ctx); err == nil {\n\t\t\treturn nil\n\t\t}\n\t}\n\treturn errTooMany\n}"},
	{"sql", "SELECT id, title\nFROM pages\nWHERE space_key = 'ENG' AND updated_at > now() - interval '1 day';"},
	{"bash", "kubectl -n payments rollout restart deploy/api && kubectl -n payments get pods -w"},
	{"python", "def chunks(xs, n):\n    for i in range(0, len(xs), n):\n        yield xs[i:i + n]"},
	{"json", "{\"replicas\": 3, \"limits\": {\"cpu\": \"500m\", \"memory\": \"1Gi\"}}"},
	{"java", "if (a < b && b > 0) {\n    System.out.println(\"ok\");\n}"},
}

var jiraProjects = []string{"ENG", "OPS", "PAY", "SRCH", "MOB", "DATA"}

// Given and family names for users, mixed across scripts.
var givenNames = []string{
	"Ada", "Bilal", "Chen", "Dmitri", "Elena", "Fatima", "Giorgos", "Hana",
	"Ivan", "Jun", "Kofi", "Lena", "María", "Noor", "Olu", "Priya", "Quinn",
	"Ravi", "Sofia", "Tomás", "Yuki", "Zeynep", "さくら", "Алексей", "Νίκος",
	"محمد", "Jürgen", "李娜",
}

var familyNames = []string{
	"Okafor", "Schmidt", "Tanaka", "Ivanova", "Haddad", "Papadopoulos",
	"García", "Kowalski", "Nguyen", "Müller", "Singh", "Rossi", "Andersson",
	"Kim", "佐藤", "Смирнов", "Οικονόμου", "الحسن", "王",
}

var appNames = []string{
	"Automation for Confluence", "Jira Cloud", "Slack for Confluence",
	"Microsoft Teams for Confluence", "draw.io Diagrams", "Trello",
}

var timeZones = []string{
	"Europe/Berlin", "America/New_York", "Asia/Tokyo", "Asia/Kolkata",
	"Europe/London", "Australia/Sydney", "America/Sao_Paulo", "Africa/Lagos",
}

var spaceWords = []string{
	"Engineering", "Payments", "Search", "Mobile", "Data Platform", "People",
	"Finance", "Security", "Support", "Design", "Marketing", "Legal",
	"Sales", "SRE", "Product", "Research", "Infrastructure", "Onboarding",
}

// syllables encode a content id as a made-up word for unique phrases; no
// word in the vocabularies above is made only of these syllables.
var syllables = []string{
	"ba", "ke", "di", "fo", "gu", "ha", "ji", "ko",
	"lu", "ma", "ne", "pi", "ro", "su", "ta", "vo",
}

// Framing words of unique phrases: no other text contains them.
const (
	phraseHead = "vexilloid"
	phraseTail = "orrery"
)
