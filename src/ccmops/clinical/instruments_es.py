"""The Spanish wording of the PHQ-9 and GAD-7 for the patient page (issue 36): the versions for the United States
published with the instruments by Pfizer (phqscreeners.com, "Spanish for USA"; reproduction, translation and
display need no permission). The items, their order, values and scoring are the English instrument's
(`clinical.instruments`); only the words the patient reads change. The fall-risk and social-needs screens have no
Spanish wording here: a Spanish-speaking patient sees them in English, said so."""

from __future__ import annotations

ANSWERS_ES = {0: "Ningún día", 1: "Varios días", 2: "Más de la mitad de los días", 3: "Casi todos los días"}

SPANISH = {
    "phq9": {
        "title": "PHQ-9 (depresión)",
        "preamble": "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes "
        "problemas?",
        "answers": ANSWERS_ES,
        "items": {
            "44250-9": "Poco interés o placer en hacer cosas",
            "44255-8": "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
            "44259-0": "Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado",
            "44254-1": "Se ha sentido cansado(a) o con poca energía",
            "44251-7": "Sin apetito o ha comido en exceso",
            "44258-2": "Se ha sentido mal con usted mismo(a) — o que es un fracaso o que ha quedado mal con usted "
            "mismo(a) o con su familia",
            "44252-5": "Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el periódico "
            "o ver la televisión",
            "44253-3": "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo contrario "
            "— muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo normal",
            "44260-8": "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
        },
    },
    "gad7": {
        "title": "GAD-7 (ansiedad)",
        "preamble": "Durante las últimas 2 semanas, ¿con qué frecuencia le han molestado los siguientes problemas?",
        "answers": {**ANSWERS_ES, 0: "Nunca"},
        "items": {
            "69725-0": "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
            "68509-9": "No ha sido capaz de parar o controlar su preocupación",
            "69733-4": "Se ha preocupado demasiado por motivos diferentes",
            "69734-2": "Ha tenido dificultad para relajarse",
            "69735-9": "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
            "69689-8": "Se ha molestado o irritado fácilmente",
            "69736-7": "Ha tenido miedo de que algo terrible fuera a pasar",
        },
    },
}
