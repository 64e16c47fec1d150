# Тексты Tribune по-русски: письма и собственные страницы Tribune. Формы множественного числа
# по правилам Fluent (one: 1, 21, 31...; few: 2-4, 22-24...; many: 5-20, 25-30...).
-brand = { $site }

digest-subject = Новости за { $date }
digest-preheader = { $count ->
    [one] { $count } материал
    [few] { $count } материала
   *[many] { $count } материалов
  } { $site } за { $date }.
digest-heading = Новости за { $date }
digest-views = { $count ->
    [one] { $count } просмотр
    [few] { $count } просмотра
   *[many] { $count } просмотров
  }
digest-comments = { $count ->
    [one] { $count } комментарий
    [few] { $count } комментария
   *[many] { $count } комментариев
  }
digest-new-comments = { $count ->
    [one] { $count } новый комментарий
    [few] { $count } новых комментария
   *[many] { $count } новых комментариев
  }
digest-photo = Фото: { $credit }
digest-read = Читать
digest-discussed = Больше всего обсуждали сегодня
digest-why = Вы получаете это письмо, потому что подписались на ежедневную рассылку новостей { $site } на адрес { $email }.
digest-unsubscribe = Отписаться
digest-open-site = Открыть { $site }

confirm-subject = Подтвердите подписку на ежедневную рассылку { $site }
confirm-hello = Здравствуйте!
confirm-body = Кто-то (надеемся, вы) подписал этот адрес на ежедневную рассылку новостей { $site }. Чтобы подтвердить, откройте ссылку в течение 48 часов:
confirm-button = Подтвердить подписку
confirm-ignore = Если это были не вы, просто не отвечайте на письмо: рассылки не будет.

reset-subject = Смена пароля на { $site }
reset-hello = Здравствуйте, { $name }!
reset-body = Кто-то (надеемся, вы) попросил сменить пароль аккаунта «{ $username }». Чтобы выбрать новый, откройте ссылку в течение часа:
reset-button = Выбрать новый пароль
reset-ignore = Если это были не вы, не обращайте внимания на письмо: пароль останется прежним.

mail-footer = { $site } · письмо отправлено сервисом сообщества сайта.

month-1 = января
month-2 = февраля
month-3 = марта
month-4 = апреля
month-5 = мая
month-6 = июня
month-7 = июля
month-8 = августа
month-9 = сентября
month-10 = октября
month-11 = ноября
month-12 = декабря
date = { $day } { $month } { $year }

# Собственные страницы Tribune (их открывают ссылки из писем).
page-confirm-title = Подтверждение подписки
page-confirm-text = Нажмите кнопку, чтобы получать ежедневную рассылку новостей на этот адрес.
page-confirm-button = Подтвердить подписку
page-confirmed-title = Подписка подтверждена
page-confirmed-text = Ежедневная рассылка новостей будет приходить на этот адрес. В каждом письме есть ссылка, чтобы отписаться.
page-unsubscribe-title = Отписка от ежедневной рассылки
page-unsubscribe-text = Нажмите кнопку, чтобы рассылка новостей больше не приходила на этот адрес.
page-unsubscribe-button = Отписаться
page-unsubscribed-title = Вы отписались
page-unsubscribed-text = Ежедневная рассылка новостей больше не будет приходить на этот адрес.
page-stop-mails-title = Отключить письма-уведомления
page-stop-mails-text = Нажмите кнопку, чтобы больше не получать письма об ответах и упоминаниях. Уведомления останутся на сайте.
page-stop-mails-button = Отключить эти письма
page-mails-stopped-title = Письма отключены
page-mails-stopped-text = Эти письма-уведомления больше не придут. Уведомления по-прежнему на сайте; включить письма снова можно в настройках аккаунта.

# Письма-уведомления.
notify-someone = Кто-то
notify-reply = { $who } отвечает на ваш комментарий в «{ $title }»
notify-topic-comment = { $who } комментирует вашу тему «{ $title }»
notify-mention = { $who } упоминает вас в «{ $title }»
notify-comment-hidden = Модератор скрыл ваш комментарий в «{ $title }»
notify-comment-deleted = Модератор удалил ваш комментарий в «{ $title }»
notify-report-resolved = Ваша жалоба в «{ $title }» рассмотрена
notify-more = …и ещё { $count }.
notify-subject-mentions = { $count ->
    [one] Вас упомянули { $count } раз
    [few] Вас упомянули { $count } раза
   *[many] Вас упомянули { $count } раз
  }
notify-subject-many = { $count ->
    [one] { $count } новый ответ или упоминание
    [few] { $count } новых ответа и упоминания
   *[many] { $count } новых ответов и упоминаний
  }
notify-why-soon = Вы получаете это письмо, потому что попросили сообщать об ответах и упоминаниях по почте.
notify-why-daily = Вы получаете это письмо раз в день, потому что попросили сообщать об ответах и упоминаниях раз в день.
notify-stop = Отключить эти письма

# Цитата.
quote = «{ $text }»
