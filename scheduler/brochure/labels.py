"""The brochure's own words in the six UN languages, and the regions' names.

The words every template shares (modes, "Registration deadline", "Fee", "free") come from
`templates/i18n/{lang}.yaml`; only what the brochure alone says lives here.
"""

from __future__ import annotations

LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")

REGION_NAMES: dict[str, dict[str, str]] = {
    "Africa": {"ar": "أفريقيا", "en": "Africa", "es": "África", "fr": "Afrique",
               "ru": "Африка", "zh": "非洲"},
    "Americas": {"ar": "الأمريكتان", "en": "Americas", "es": "Américas", "fr": "Amériques",
                 "ru": "Америка", "zh": "美洲"},
    "Arab States": {"ar": "الدول العربية", "en": "Arab States", "es": "Estados Árabes",
                    "fr": "États arabes", "ru": "Арабские государства", "zh": "阿拉伯国家"},
    "Asia-Pacific": {"ar": "آسيا والمحيط الهادئ", "en": "Asia-Pacific", "es": "Asia-Pacífico",
                     "fr": "Asie-Pacifique", "ru": "Азиатско-Тихоокеанский регион",
                     "zh": "亚太"},
    "CIS": {"ar": "كومنولث الدول المستقلة", "en": "CIS", "es": "CEI", "fr": "CEI",
            "ru": "СНГ", "zh": "独联体"},
    "Europe": {"ar": "أوروبا", "en": "Europe", "es": "Europa", "fr": "Europe",
               "ru": "Европа", "zh": "欧洲"},
}

# `{region}` and `{year}` are filled in; nothing else is.
BROCHURE_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Training brochure {year}",
        "subtitle": "ITU Academy Training Centres · {region}",
        "intro": "This brochure lists every course that the ITU Academy Training Centres "
                 "offer in {region} in {year}, together with the online courses open to "
                 "participants from the region. Plan ahead: note each course's registration "
                 "deadline and register on the ITU Academy.",
        "contents": "Contents",
        "introduction": "Introduction",
        "centres": "Training Centres in the region",
        "courses": "Courses by month",
        "index": "Index by topic",
        "topics": "Topics",
        "website": "Website",
        "link": "Course page",
        "online_note": "Online, open to every region",
        "no_centres": "No Training Centre of the region is listed yet.",
        "qr": "QR code of the course page",
    },
    "ar": {
        "title": "كتيّب التدريب {year}",
        "subtitle": "مراكز التدريب التابعة لأكاديمية الاتحاد الدولي للاتصالات · {region}",
        "intro": "يعرض هذا الكتيّب جميع الدورات التي تقدّمها مراكز التدريب التابعة لأكاديمية "
                 "الاتحاد الدولي للاتصالات في منطقة {region} في عام {year}، إلى جانب الدورات "
                 "عبر الإنترنت المتاحة للمشاركين من المنطقة. خطّطوا مسبقاً: لاحظوا آخر موعد "
                 "للتسجيل في كل دورة وسجّلوا في أكاديمية الاتحاد.",
        "contents": "المحتويات",
        "introduction": "مقدمة",
        "centres": "مراكز التدريب في المنطقة",
        "courses": "الدورات حسب الشهر",
        "index": "فهرس حسب الموضوع",
        "topics": "المواضيع",
        "website": "الموقع الإلكتروني",
        "link": "صفحة الدورة",
        "online_note": "عبر الإنترنت، متاحة لجميع المناطق",
        "no_centres": "لا توجد مراكز تدريب مدرجة للمنطقة بعد.",
        "qr": "رمز الاستجابة السريعة لصفحة الدورة",
    },
    "es": {
        "title": "Folleto de formación {year}",
        "subtitle": "Centros de Formación de la Academia de la UIT · {region}",
        "intro": "Este folleto presenta todos los cursos que los Centros de Formación de la "
                 "Academia de la UIT ofrecen en la región {region} en {year}, junto con los "
                 "cursos en línea abiertos a los participantes de la región. Planifique con "
                 "antelación: tenga en cuenta la fecha límite de inscripción de cada curso e "
                 "inscríbase en la Academia de la UIT.",
        "contents": "Contenido",
        "introduction": "Introducción",
        "centres": "Centros de formación de la región",
        "courses": "Cursos por mes",
        "index": "Índice temático",
        "topics": "Temas",
        "website": "Sitio web",
        "link": "Página del curso",
        "online_note": "En línea, abierto a todas las regiones",
        "no_centres": "Aún no figura ningún centro de formación de la región.",
        "qr": "Código QR de la página del curso",
    },
    "fr": {
        "title": "Brochure de formation {year}",
        "subtitle": "Centres de formation de l'Académie de l'UIT · {region}",
        "intro": "Cette brochure présente tous les cours que les centres de formation de "
                 "l'Académie de l'UIT proposent dans la région {region} en {year}, ainsi que "
                 "les cours en ligne ouverts aux participants de la région. Planifiez à "
                 "l'avance : notez la date limite d'inscription de chaque cours et "
                 "inscrivez-vous sur l'Académie de l'UIT.",
        "contents": "Sommaire",
        "introduction": "Introduction",
        "centres": "Les centres de formation de la région",
        "courses": "Les cours mois par mois",
        "index": "Index par thème",
        "topics": "Thèmes",
        "website": "Site web",
        "link": "Page du cours",
        "online_note": "En ligne, ouvert à toutes les régions",
        "no_centres": "Aucun centre de formation de la région n'est encore répertorié.",
        "qr": "Code QR de la page du cours",
    },
    "ru": {
        "title": "Брошюра об учебных курсах, {year}",
        "subtitle": "Учебные центры Академии МСЭ · {region}",
        "intro": "В этой брошюре перечислены все курсы, которые учебные центры Академии МСЭ "
                 "проводят в регионе «{region}» в {year} году, а также онлайн-курсы, открытые "
                 "для участников из региона. Планируйте заранее: обратите внимание на крайний "
                 "срок регистрации на каждый курс и регистрируйтесь в Академии МСЭ.",
        "contents": "Содержание",
        "introduction": "Введение",
        "centres": "Учебные центры региона",
        "courses": "Курсы по месяцам",
        "index": "Указатель по темам",
        "topics": "Темы",
        "website": "Веб-сайт",
        "link": "Страница курса",
        "online_note": "Онлайн, открыт для всех регионов",
        "no_centres": "Учебные центры региона пока не указаны.",
        "qr": "QR-код страницы курса",
    },
    "zh": {
        "title": "{year}年培训手册",
        "subtitle": "国际电联学院培训中心 · {region}",
        "intro": "本手册列出国际电联学院培训中心{year}年在{region}区域开设的全部课程，"
                 "以及向该区域学员开放的在线课程。请提前规划：留意每门课程的报名截止日期，"
                 "并在国际电联学院网站上报名。",
        "contents": "目录",
        "introduction": "简介",
        "centres": "本区域培训中心",
        "courses": "按月份排列的课程",
        "index": "主题索引",
        "topics": "主题",
        "website": "网站",
        "link": "课程页面",
        "online_note": "在线课程，向所有区域开放",
        "no_centres": "本区域尚无列出的培训中心。",
        "qr": "课程页面二维码",
    },
}


def region_name(region: str, lang: str) -> str:
    """The region's name in `lang` (the canonical English spelling when unknown)."""
    return REGION_NAMES.get(region, {}).get(lang, region)
