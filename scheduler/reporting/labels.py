"""The HTML report's words in the six UN languages (Arabic is written right to left)."""

from __future__ import annotations

LANGUAGES = ("en", "fr", "es", "ar", "ru", "zh")
RTL = frozenset({"ar"})

_KEYS = ("title", "period", "all_time", "totals", "funnel", "funnel_note", "region",
         "centre", "trends", "month", "social", "network", "top_courses", "course",
         "sent", "clicked", "interest", "emails", "posts", "failed", "bounced",
         "complained", "unsubscribed", "delivered", "click_rate", "bounce_rate",
         "complaint_rate", "interest_participants", "none", "warning", "chart", "value",
         "refused", "likes", "reposts", "replies")

_TEXT: dict[str, tuple[str, ...]] = {
    "en": ("Promotion performance report", "Period", "all events", "Totals",
           "Funnel by region and centre", "sent → clicked → expressed interest",
           "Region", "Centre", "Trends by month", "Month", "Social posts per network",
           "Network", "Courses with the most interest", "Course", "Sent", "Clicked",
           "Interest", "Emails", "Posts", "Failed", "Bounced", "Complaints",
           "Unsubscribed", "Delivered", "Click rate", "Bounce rate", "Complaint rate",
           "Participants named", "No data for this period.", "Warning", "Chart", "Value",
           "Refused at send time", "Likes", "Reposts", "Replies"),
    "fr": ("Rapport sur les résultats de la promotion", "Période", "tous les événements",
           "Totaux", "Entonnoir par région et centre", "envoyés → cliqués → intérêt exprimé",
           "Région", "Centre", "Tendances par mois", "Mois", "Publications par réseau social",
           "Réseau", "Cours suscitant le plus d'intérêt", "Cours", "Envoyés", "Cliqués",
           "Intérêt", "Courriels", "Publications", "Échecs", "Rebonds", "Plaintes",
           "Désabonnements", "Remis", "Taux de clic", "Taux de rebond", "Taux de plainte",
           "Participants annoncés", "Aucune donnée pour cette période.", "Avertissement",
           "Graphique", "Valeur", "Refusés à l'envoi", "J'aime", "Partages", "Réponses"),
    "es": ("Informe de resultados de la promoción", "Período", "todos los eventos",
           "Totales", "Embudo por región y centro", "enviados → clics → interés expresado",
           "Región", "Centro", "Tendencias por mes", "Mes", "Publicaciones por red social",
           "Red", "Cursos con más interés", "Curso", "Enviados", "Clics", "Interés",
           "Correos", "Publicaciones", "Fallidos", "Rebotes", "Quejas", "Bajas",
           "Entregados", "Tasa de clics", "Tasa de rebote", "Tasa de quejas",
           "Participantes indicados", "No hay datos para este período.", "Advertencia",
           "Gráfico", "Valor", "Rechazados al enviar", "Me gusta", "Compartidos",
           "Respuestas"),
    "ar": ("تقرير أداء الترويج", "الفترة", "جميع الأحداث", "المجاميع",
           "مسار التحويل حسب المنطقة والمركز", "مُرسَل ← نقر ← إبداء اهتمام", "المنطقة",
           "المركز", "الاتجاهات الشهرية", "الشهر", "المنشورات حسب الشبكة الاجتماعية",
           "الشبكة", "الدورات الأكثر اهتماماً", "الدورة", "مُرسَل", "نقرات", "اهتمام",
           "رسائل البريد", "منشورات", "فشل", "مرتجع", "شكاوى", "إلغاء الاشتراك", "مُسلَّم",
           "معدل النقر", "معدل الارتجاع", "معدل الشكاوى", "المشاركون المذكورون",
           "لا توجد بيانات لهذه الفترة.", "تحذير", "رسم بياني", "القيمة", "مرفوض عند الإرسال",
           "إعجابات", "إعادات نشر", "ردود"),
    "ru": ("Отчёт о результатах продвижения", "Период", "все события", "Итого",
           "Воронка по регионам и центрам", "отправлено → переходы → интерес", "Регион",
           "Центр", "Динамика по месяцам", "Месяц", "Публикации по соцсетям", "Сеть",
           "Курсы с наибольшим интересом", "Курс", "Отправлено", "Переходы", "Интерес",
           "Письма", "Публикации", "Ошибки", "Возвраты", "Жалобы", "Отписки", "Доставлено",
           "Доля переходов", "Доля возвратов", "Доля жалоб", "Указано участников",
           "Нет данных за этот период.", "Предупреждение", "Диаграмма", "Значение",
           "Отклонено при отправке", "Отметки «нравится»", "Репосты", "Ответы"),
    "zh": ("推广成效报告", "期间", "全部事件", "总计", "按区域和中心的转化漏斗",
           "已发送 → 已点击 → 表示兴趣", "区域", "中心", "月度趋势", "月份",
           "各社交网络的帖子", "网络", "最受关注的课程", "课程", "已发送", "点击",
           "兴趣", "电子邮件", "帖子", "失败", "退信", "投诉", "退订", "已送达", "点击率",
           "退信率", "投诉率", "报名人数", "此期间没有数据。", "警告", "图表", "数值",
           "发送时被拒收", "点赞", "转发", "回复"),
}
LABELS: dict[str, dict[str, str]] = {lang: dict(zip(_KEYS, words, strict=True))
                                     for lang, words in _TEXT.items()}
