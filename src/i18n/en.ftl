# Tribune's texts in English: mail and Tribune's own pages. Plural forms by Fluent's rules.
-brand = { $site }

digest-subject = The news of { $date }
digest-preheader = { $count ->
    [one] One story
   *[other] { $count } stories
  } from { $site } for { $date }.
digest-heading = The news of { $date }
digest-views = { $count ->
    [one] { $count } view
   *[other] { $count } views
  }
digest-comments = { $count ->
    [one] { $count } comment
   *[other] { $count } comments
  }
digest-new-comments = { $count ->
    [one] { $count } new comment
   *[other] { $count } new comments
  }
digest-photo = Photo: { $credit }
digest-read = Read
digest-discussed = Most discussed today
digest-why = You get this mail because you subscribed to the daily news digest of { $site } at { $email }.
digest-unsubscribe = Unsubscribe
digest-open-site = Open { $site }

confirm-subject = Confirm your subscription to the daily digest of { $site }
confirm-hello = Hello,
confirm-body = someone (we hope you) asked for the daily news digest of { $site } at this address. Open this link within 48 hours to confirm:
confirm-button = Confirm the subscription
confirm-ignore = If it was not you, ignore this mail: nothing will be sent.

reset-subject = Reset your password on { $site }
reset-hello = Hello { $name },
reset-body = someone (we hope you) asked to reset the password of your account “{ $username }”. Open this link within an hour to choose a new one:
reset-button = Choose a new password
reset-ignore = If it was not you, ignore this mail: your password stays as it is.

mail-footer = { $site } · this mail was sent by the site's community service.

month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
date = { $month } { $day }, { $year }

# Tribune's own pages (what a mail's links open).
page-confirm-title = Confirm the subscription
page-confirm-text = Press the button to get the daily news digest at this address.
page-confirm-button = Confirm the subscription
page-confirmed-title = Subscription confirmed
page-confirmed-text = The daily news digest will come to this address. Every digest has a link to stop it.
page-unsubscribe-title = Unsubscribe from the daily digest
page-unsubscribe-text = Press the button to stop the daily news digest at this address.
page-unsubscribe-button = Unsubscribe
page-unsubscribed-title = Unsubscribed
page-unsubscribed-text = The daily news digest will not come to this address any more.
page-stop-mails-title = Stop notification mails
page-stop-mails-text = Press the button to stop these mails about replies and mentions. Your notifications stay on the site.
page-stop-mails-button = Stop these mails
page-mails-stopped-title = Mails stopped
page-mails-stopped-text = These notification mails will not come any more. Your notifications are still on the site; your account's settings turn the mails back on.

# Notification mails.
notify-someone = Someone
notify-reply = { $who } replied to your comment in “{ $title }”
notify-topic-comment = { $who } commented in your topic “{ $title }”
notify-mention = { $who } mentioned you in “{ $title }”
notify-comment-hidden = A moderator hid your comment in “{ $title }”
notify-comment-deleted = A moderator deleted your comment in “{ $title }”
notify-report-resolved = Your report in “{ $title }” was resolved
notify-more = …and { $count } more.
notify-subject-mentions = { $count ->
    [one] You were mentioned once
   *[other] You were mentioned { $count } times
  }
notify-subject-many = { $count } new replies and mentions
notify-why-soon = You get this mail because you asked to hear of replies and mentions by mail.
notify-why-daily = You get this daily mail because you asked to hear of replies and mentions once a day.
notify-stop = Stop these mails

# A quoted text.
quote = “{ $text }”
