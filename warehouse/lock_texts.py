"""Texts of the phone service and of budget mail, in the seven UI languages.

Keys are the English texts, as gettext msgids, so they move into the shared catalogues as they are
(`translate(msgid, lang)` becomes `gettext`). Values go in by str.format names ({until}, {pct}, ...).
A language we do not have falls back to English; a missing translation falls back to the msgid.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

LANGUAGES = ("en", "de", "fr", "es", "ar", "pl", "it")

# msgid -> {language: translation}
CATALOGUE: dict[str, dict[str, str]] = {
    # --- phone service: titles, menu items, prompts (titles and prompts fit 32 characters) ---
    "Phone lock": {
        "de": "Telefonsperre",
        "fr": "Verrouillage",
        "es": "Bloqueo del teléfono",
        "ar": "قفل الهاتف",
        "pl": "Blokada telefonu",
        "it": "Blocco telefono",
    },
    "Phone locked": {
        "de": "Telefon gesperrt",
        "fr": "Téléphone verrouillé",
        "es": "Teléfono bloqueado",
        "ar": "الهاتف مقفل",
        "pl": "Telefon zablokowany",
        "it": "Telefono bloccato",
    },
    "Phone unlocked": {
        "de": "Telefon entsperrt",
        "fr": "Téléphone déverrouillé",
        "es": "Teléfono desbloqueado",
        "ar": "الهاتف غير مقفل",
        "pl": "Telefon odblokowany",
        "it": "Telefono sbloccato",
    },
    "Lock phone": {
        "de": "Telefon sperren",
        "fr": "Verrouiller le téléphone",
        "es": "Bloquear el teléfono",
        "ar": "قفل الهاتف",
        "pl": "Zablokuj telefon",
        "it": "Blocca il telefono",
    },
    "Unlock phone": {
        "de": "Telefon entsperren",
        "fr": "Déverrouiller le téléphone",
        "es": "Desbloquear el teléfono",
        "ar": "إلغاء قفل الهاتف",
        "pl": "Odblokuj telefon",
        "it": "Sblocca il telefono",
    },
    "Change PIN": {
        "de": "PIN ändern",
        "fr": "Changer le code PIN",
        "es": "Cambiar el PIN",
        "ar": "تغيير الرمز السري",
        "pl": "Zmień PIN",
        "it": "Cambia PIN",
    },
    "Status": {
        "de": "Status",
        "fr": "État",
        "es": "Estado",
        "ar": "الحالة",
        "pl": "Stan",
        "it": "Stato",
    },
    "Enter your PIN": {
        "de": "PIN eingeben",
        "fr": "Saisissez votre PIN",
        "es": "Introduzca su PIN",
        "ar": "أدخل الرمز السري",
        "pl": "Wprowadź PIN",
        "it": "Inserire il PIN",
    },
    "PIN": {"de": "PIN", "fr": "PIN", "es": "PIN", "ar": "الرمز السري", "pl": "PIN", "it": "PIN"},
    "Old PIN": {
        "de": "Alte PIN",
        "fr": "Ancien PIN",
        "es": "PIN actual",
        "ar": "الرمز القديم",
        "pl": "Stary PIN",
        "it": "PIN attuale",
    },
    "New PIN": {
        "de": "Neue PIN",
        "fr": "Nouveau PIN",
        "es": "PIN nuevo",
        "ar": "الرمز الجديد",
        "pl": "Nowy PIN",
        "it": "Nuovo PIN",
    },
    "Repeat new PIN": {
        "de": "Neue PIN wiederholen",
        "fr": "Confirmer le PIN",
        "es": "Repita el PIN nuevo",
        "ar": "أعد الرمز الجديد",
        "pl": "Powtórz nowy PIN",
        "it": "Ripeti il nuovo PIN",
    },
    "Exit": {"de": "Beenden", "fr": "Quitter", "es": "Salir", "ar": "خروج", "pl": "Wyjdź", "it": "Esci"},
    "Back": {"de": "Zurück", "fr": "Retour", "es": "Atrás", "ar": "رجوع", "pl": "Wstecz", "it": "Indietro"},
    "Select": {"de": "Wählen", "fr": "Choisir", "es": "Elegir", "ar": "اختيار", "pl": "Wybierz", "it": "Scegli"},
    # --- phone service: results ---
    "Your phone is locked. Outgoing calls are blocked; emergency numbers still work.": {
        "de": "Ihr Telefon ist gesperrt. Externe Anrufe sind blockiert; Notrufnummern funktionieren weiterhin.",
        "fr": "Votre téléphone est verrouillé. Les appels sortants sont bloqués ; les numéros d'urgence "
        "restent joignables.",
        "es": "Su teléfono está bloqueado. Las llamadas salientes están bloqueadas; los números de emergencia "
        "siguen funcionando.",
        "ar": "هاتفك مقفل. المكالمات الصادرة محظورة؛ أرقام الطوارئ تعمل دائمًا.",
        "pl": "Telefon jest zablokowany. Połączenia wychodzące są zablokowane; numery alarmowe nadal działają.",
        "it": "Il telefono è bloccato. Le chiamate in uscita sono bloccate; i numeri di emergenza funzionano sempre.",
    },
    "Your phone is unlocked.": {
        "de": "Ihr Telefon ist entsperrt.",
        "fr": "Votre téléphone est déverrouillé.",
        "es": "Su teléfono está desbloqueado.",
        "ar": "تم إلغاء قفل هاتفك.",
        "pl": "Telefon jest odblokowany.",
        "it": "Il telefono è sbloccato.",
    },
    "Your administrator has locked this phone; only an administrator can unlock it.": {
        "de": "Ihr Administrator hat dieses Telefon gesperrt; nur ein Administrator kann es entsperren.",
        "fr": "Votre administrateur a verrouillé ce téléphone ; seul un administrateur peut le déverrouiller.",
        "es": "Su administrador ha bloqueado este teléfono; solo un administrador puede desbloquearlo.",
        "ar": "قام المسؤول بقفل هذا الهاتف؛ لا يمكن إلغاء القفل إلا من قبل المسؤول.",
        "pl": "Administrator zablokował ten telefon; tylko administrator może go odblokować.",
        "it": "L'amministratore ha bloccato questo telefono; solo un amministratore può sbloccarlo.",
    },
    "Your budget is spent: the phone stays locked until {until}.": {
        "de": "Ihr Budget ist aufgebraucht: Das Telefon bleibt bis {until} gesperrt.",
        "fr": "Votre budget est épuisé : le téléphone reste verrouillé jusqu'au {until}.",
        "es": "Su presupuesto está agotado: el teléfono sigue bloqueado hasta el {until}.",
        "ar": "نفدت ميزانيتك: سيبقى الهاتف مقفلاً حتى {until}.",
        "pl": "Budżet został wyczerpany: telefon pozostaje zablokowany do {until}.",
        "it": "Il budget è esaurito: il telefono resta bloccato fino al {until}.",
    },
    "Wrong PIN. Attempts left: {remaining}.": {
        "de": "Falsche PIN. Verbleibende Versuche: {remaining}.",
        "fr": "PIN incorrect. Essais restants : {remaining}.",
        "es": "PIN incorrecto. Intentos restantes: {remaining}.",
        "ar": "رمز سري خاطئ. المحاولات المتبقية: {remaining}.",
        "pl": "Błędny PIN. Pozostałe próby: {remaining}.",
        "it": "PIN errato. Tentativi rimasti: {remaining}.",
    },
    "Too many wrong PINs. Try again after {time}.": {
        "de": "Zu viele falsche PINs. Versuchen Sie es nach {time} erneut.",
        "fr": "Trop de PIN incorrects. Réessayez après {time}.",
        "es": "Demasiados PIN incorrectos. Vuelva a intentarlo después de las {time}.",
        "ar": "محاولات خاطئة كثيرة. حاول مرة أخرى بعد {time}.",
        "pl": "Zbyt wiele błędnych PIN-ów. Spróbuj ponownie po {time}.",
        "it": "Troppi PIN errati. Riprovare dopo le {time}.",
    },
    "No PIN is set for you yet. Ask your administrator for one.": {
        "de": "Für Sie ist noch keine PIN festgelegt. Bitten Sie Ihren Administrator darum.",
        "fr": "Aucun PIN n'est encore défini pour vous. Demandez-en un à votre administrateur.",
        "es": "Aún no tiene PIN. Pida uno a su administrador.",
        "ar": "لم يتم تعيين رمز سري لك بعد. اطلبه من المسؤول.",
        "pl": "Nie masz jeszcze PIN-u. Poproś o niego administratora.",
        "it": "Non hai ancora un PIN. Chiedilo all'amministratore.",
    },
    "Your PIN has been changed.": {
        "de": "Ihre PIN wurde geändert.",
        "fr": "Votre PIN a été modifié.",
        "es": "Su PIN se ha cambiado.",
        "ar": "تم تغيير الرمز السري.",
        "pl": "PIN został zmieniony.",
        "it": "Il PIN è stato cambiato.",
    },
    "The two new PINs differ.": {
        "de": "Die beiden neuen PINs stimmen nicht überein.",
        "fr": "Les deux nouveaux PIN sont différents.",
        "es": "Los dos PIN nuevos no coinciden.",
        "ar": "الرمزان الجديدان غير متطابقين.",
        "pl": "Dwa nowe PIN-y się różnią.",
        "it": "I due nuovi PIN non coincidono.",
    },
    "A PIN has {length} digits.": {
        "de": "Eine PIN hat {length} Ziffern.",
        "fr": "Un PIN comporte {length} chiffres.",
        "es": "Un PIN tiene {length} dígitos.",
        "ar": "يتكون الرمز السري من {length} أرقام.",
        "pl": "PIN ma {length} cyfry.",
        "it": "Un PIN ha {length} cifre.",
    },
    "Choose a PIN that is not a sequence or one digit repeated.": {
        "de": "Wählen Sie eine PIN, die keine Zahlenfolge und keine wiederholte Ziffer ist.",
        "fr": "Choisissez un PIN qui ne soit ni une suite ni un chiffre répété.",
        "es": "Elija un PIN que no sea una secuencia ni un dígito repetido.",
        "ar": "اختر رمزًا ليس تسلسلاً ولا رقمًا مكررًا.",
        "pl": "Wybierz PIN, który nie jest ciągiem ani powtórzoną cyfrą.",
        "it": "Scegli un PIN che non sia una sequenza né una cifra ripetuta.",
    },
    "This phone is not known yet. Make a call from it, or ask your administrator.": {
        "de": "Dieses Telefon ist noch nicht bekannt. Führen Sie einen Anruf damit durch oder fragen Sie Ihren "
        "Administrator.",
        "fr": "Ce téléphone n'est pas encore connu. Passez un appel avec, ou contactez votre administrateur.",
        "es": "Este teléfono aún no es conocido. Haga una llamada desde él o consulte a su administrador.",
        "ar": "هذا الهاتف غير معروف بعد. أجرِ مكالمة منه أو اسأل المسؤول.",
        "pl": "Ten telefon nie jest jeszcze znany. Wykonaj z niego połączenie lub zapytaj administratora.",
        "it": "Questo telefono non è ancora noto. Fai una chiamata da esso o chiedi all'amministratore.",
    },
    "The service URL must pass the phone's name (#DEVICENAME#).": {
        "de": "Die Dienst-URL muss den Gerätenamen übergeben (#DEVICENAME#).",
        "fr": "L'URL du service doit transmettre le nom du téléphone (#DEVICENAME#).",
        "es": "La URL del servicio debe pasar el nombre del teléfono (#DEVICENAME#).",
        "ar": "يجب أن يمرر عنوان الخدمة اسم الهاتف (#DEVICENAME#).",
        "pl": "Adres URL usługi musi przekazywać nazwę telefonu (#DEVICENAME#).",
        "it": "L'URL del servizio deve passare il nome del telefono (#DEVICENAME#).",
    },
    "Extension {extension}: {state}.": {
        "de": "Nebenstelle {extension}: {state}.",
        "fr": "Poste {extension} : {state}.",
        "es": "Extensión {extension}: {state}.",
        "ar": "التحويلة {extension}: {state}.",
        "pl": "Numer wewnętrzny {extension}: {state}.",
        "it": "Interno {extension}: {state}.",
    },
    "unlocked": {
        "de": "entsperrt",
        "fr": "déverrouillé",
        "es": "desbloqueado",
        "ar": "غير مقفل",
        "pl": "odblokowany",
        "it": "sbloccato",
    },
    "locked by you": {
        "de": "von Ihnen gesperrt",
        "fr": "verrouillé par vous",
        "es": "bloqueado por usted",
        "ar": "مقفل من قبلك",
        "pl": "zablokowany przez Ciebie",
        "it": "bloccato da te",
    },
    "locked by the administrator": {
        "de": "vom Administrator gesperrt",
        "fr": "verrouillé par l'administrateur",
        "es": "bloqueado por el administrador",
        "ar": "مقفل من قبل المسؤول",
        "pl": "zablokowany przez administratora",
        "it": "bloccato dall'amministratore",
    },
    "locked: budget spent": {
        "de": "gesperrt: Budget aufgebraucht",
        "fr": "verrouillé : budget épuisé",
        "es": "bloqueado: presupuesto agotado",
        "ar": "مقفل: نفدت الميزانية",
        "pl": "zablokowany: budżet wyczerpany",
        "it": "bloccato: budget esaurito",
    },
    "{budget}: {spent} of {allowance} spent, {remaining} left until {until}.": {
        "de": "{budget}: {spent} von {allowance} verbraucht, {remaining} übrig bis {until}.",
        "fr": "{budget} : {spent} sur {allowance} dépensés, {remaining} restants jusqu'au {until}.",
        "es": "{budget}: {spent} de {allowance} gastado, quedan {remaining} hasta el {until}.",
        "ar": "{budget}: تم إنفاق {spent} من {allowance}، والمتبقي {remaining} حتى {until}.",
        "pl": "{budget}: wydano {spent} z {allowance}, pozostało {remaining} do {until}.",
        "it": "{budget}: spesi {spent} su {allowance}, restano {remaining} fino al {until}.",
    },
    "Outgoing calls are blocked ({reason}). Emergency numbers still work.": {
        "de": "Externe Anrufe sind blockiert ({reason}). Notrufnummern funktionieren weiterhin.",
        "fr": "Les appels sortants sont bloqués ({reason}). Les numéros d'urgence restent joignables.",
        "es": "Las llamadas salientes están bloqueadas ({reason}). Los números de emergencia siguen funcionando.",
        "ar": "المكالمات الصادرة محظورة ({reason}). أرقام الطوارئ تعمل دائمًا.",
        "pl": "Połączenia wychodzące są zablokowane ({reason}). Numery alarmowe nadal działają.",
        "it": "Le chiamate in uscita sono bloccate ({reason}). I numeri di emergenza funzionano sempre.",
    },
    # --- budgets: names and periods ---
    "Personal budget": {
        "de": "Persönliches Budget",
        "fr": "Budget personnel",
        "es": "Presupuesto personal",
        "ar": "الميزانية الشخصية",
        "pl": "Budżet osobisty",
        "it": "Budget personale",
    },
    "Department {name}": {
        "de": "Abteilung {name}",
        "fr": "Service {name}",
        "es": "Departamento {name}",
        "ar": "القسم {name}",
        "pl": "Dział {name}",
        "it": "Reparto {name}",
    },
    "Cost centre {name}": {
        "de": "Kostenstelle {name}",
        "fr": "Centre de coûts {name}",
        "es": "Centro de coste {name}",
        "ar": "مركز التكلفة {name}",
        "pl": "Centrum kosztów {name}",
        "it": "Centro di costo {name}",
    },
    "weekly": {
        "de": "wöchentlich",
        "fr": "hebdomadaire",
        "es": "semanal",
        "ar": "أسبوعي",
        "pl": "tygodniowy",
        "it": "settimanale",
    },
    "monthly": {
        "de": "monatlich",
        "fr": "mensuel",
        "es": "mensual",
        "ar": "شهري",
        "pl": "miesięczny",
        "it": "mensile",
    },
    # --- budget mail ---
    "{budget}: {pct}% of the budget used": {
        "de": "{budget}: {pct} % des Budgets verbraucht",
        "fr": "{budget} : {pct} % du budget utilisé",
        "es": "{budget}: {pct} % del presupuesto usado",
        "ar": "{budget}: تم استخدام {pct}٪ من الميزانية",
        "pl": "{budget}: wykorzystano {pct}% budżetu",
        "it": "{budget}: usato il {pct}% del budget",
    },
    "{budget}: budget spent, phone locked": {
        "de": "{budget}: Budget aufgebraucht, Telefon gesperrt",
        "fr": "{budget} : budget épuisé, téléphone verrouillé",
        "es": "{budget}: presupuesto agotado, teléfono bloqueado",
        "ar": "{budget}: نفدت الميزانية وتم قفل الهاتف",
        "pl": "{budget}: budżet wyczerpany, telefon zablokowany",
        "it": "{budget}: budget esaurito, telefono bloccato",
    },
    "Hello {name},": {
        "de": "Hallo {name},",
        "fr": "Bonjour {name},",
        "es": "Hola {name}:",
        "ar": "مرحبًا {name}،",
        "pl": "Dzień dobry {name},",
        "it": "Buongiorno {name},",
    },
    "{pct}% of the {period} budget \u201c{budget}\u201d has been used.": {
        "de": "{pct} % des {period}en Budgets \u201e{budget}\u201c sind verbraucht.",
        "fr": "{pct} % du budget {period} \u00ab {budget} \u00bb a été utilisé.",
        "es": "Se ha usado el {pct} % del presupuesto {period} \u00ab{budget}\u00bb.",
        "ar": "تم استخدام {pct}٪ من الميزانية ({period}) \u201c{budget}\u201d.",
        "pl": "Wykorzystano {pct}% budżetu ({period}) \u201e{budget}\u201d.",
        "it": "È stato usato il {pct}% del budget {period} \u00ab{budget}\u00bb.",
    },
    "This message is about {person}.": {
        "de": "Diese Nachricht betrifft {person}.",
        "fr": "Ce message concerne {person}.",
        "es": "Este mensaje se refiere a {person}.",
        "ar": "تتعلق هذه الرسالة بـ {person}.",
        "pl": "Ta wiadomość dotyczy: {person}.",
        "it": "Questo messaggio riguarda {person}.",
    },
    "Period": {"de": "Zeitraum", "fr": "Période", "es": "Periodo", "ar": "الفترة", "pl": "Okres", "it": "Periodo"},
    "Budget": {"de": "Budget", "fr": "Budget", "es": "Presupuesto", "ar": "الميزانية", "pl": "Budżet", "it": "Budget"},
    "Spent": {"de": "Verbraucht", "fr": "Dépensé", "es": "Gastado", "ar": "المُنفق", "pl": "Wydano", "it": "Speso"},
    "Remaining": {
        "de": "Verbleibend",
        "fr": "Restant",
        "es": "Restante",
        "ar": "المتبقي",
        "pl": "Pozostało",
        "it": "Rimanente",
    },
    "Outgoing calls are blocked until {until}; emergency numbers still work.": {
        "de": "Externe Anrufe sind bis {until} blockiert; Notrufnummern funktionieren weiterhin.",
        "fr": "Les appels sortants sont bloqués jusqu'au {until} ; les numéros d'urgence restent joignables.",
        "es": "Las llamadas salientes están bloqueadas hasta el {until}; los números de emergencia siguen funcionando.",
        "ar": "المكالمات الصادرة محظورة حتى {until}؛ أرقام الطوارئ تعمل دائمًا.",
        "pl": "Połączenia wychodzące są zablokowane do {until}; numery alarmowe nadal działają.",
        "it": "Le chiamate in uscita sono bloccate fino al {until}; i numeri di emergenza funzionano sempre.",
    },
}


def language(lang: str | None) -> str:
    """The supported language for a person's setting ('de-CH' -> 'de'; unknown -> 'en')."""
    base = (lang or "en").replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


def translate(msgid: str, lang: str | None, **values: object) -> str:
    """The text in the language, with the {named} values filled in."""
    text = CATALOGUE.get(msgid, {}).get(language(lang), msgid)
    return text.format(**values) if values else text


def money(amount: Decimal | int | float, currency: str, lang: str | None) -> str:
    """An amount of money as a person of that language writes it (e.g. '12,50 €')."""
    from babel.numbers import format_currency

    return format_currency(Decimal(str(amount)), currency, locale=language(lang))


def day(value: date | datetime, lang: str | None) -> str:
    """A date in the language's medium format (e.g. '31 Jan 2026', '31.01.2026')."""
    from babel.dates import format_date

    return format_date(value if isinstance(value, date) else value.date(), format="medium", locale=language(lang))


def clock(value: datetime, lang: str | None) -> str:
    """A time of day in the language's short format."""
    from babel.dates import format_time

    return format_time(value, format="short", locale=language(lang))
