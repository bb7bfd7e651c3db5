"""What demo interactions are about, how they ended, and what customers say in NPS surveys."""

from __future__ import annotations

CHANNELS: tuple[tuple[str, float], ...] = (
    ("phone", 0.40),
    ("email", 0.18),
    ("web", 0.12),
    ("chat", 0.14),
    ("store", 0.11),
    ("sales_visit", 0.05),
)

INBOUND_SHARE: dict[str, float] = {
    "phone": 0.78,
    "email": 0.65,
    "web": 1.0,
    "chat": 0.97,
    "store": 1.0,
    "sales_visit": 0.0,
}
"""Share of each channel's contacts the customer started."""

# (Spanish subject, English subject), per channel and direction.
SUBJECTS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("phone", "inbound"): (
        ("Consulta sobre la factura de este mes", "Question about this month's bill"),
        ("Cargo duplicado en la factura", "Duplicate charge on the bill"),
        ("Avería: sin conexión de fibra", "Fault: fibre connection down"),
        ("Sin cobertura móvil en casa", "No mobile coverage at home"),
        ("Quiere cambiar de tarifa", "Wants to change plan"),
        ("Solicita la portabilidad de su línea", "Asks to port their number"),
        ("Baja del servicio de TV", "Cancelling the TV service"),
        ("Reclamación por retraso en la instalación", "Complaint: installation delayed"),
        ("Cambio de domicilio", "Moving house"),
        ("Duda sobre los puntos de fidelización", "Question about loyalty points"),
        ("Pide información sobre Fibra 1 Gb", "Asks about Fibre 1 Gb"),
        ("Robo del móvil: bloqueo de SIM", "Phone stolen: block the SIM"),
        ("Cambio de cuenta bancaria", "Change of bank account"),
        ("Router no enciende", "Router does not power on"),
        ("Consulta sobre la tarifa de luz", "Question about the electricity tariff"),
    ),
    ("phone", "outbound"): (
        ("Seguimiento de la avería", "Follow-up on the fault"),
        ("Oferta de renovación de permanencia", "Contract renewal offer"),
        ("Confirmación de cita del técnico", "Technician appointment confirmation"),
        ("Encuesta de satisfacción", "Satisfaction survey"),
        ("Retención: intención de baja", "Retention: intends to leave"),
        ("Aviso de impago", "Missed payment reminder"),
        ("Devolución de llamada solicitada", "Requested call back"),
    ),
    ("email", "inbound"): (
        ("Solicitud de duplicado de factura", "Request for a copy of an invoice"),
        ("Reclamación formal", "Formal complaint"),
        ("Envío de documentación para el alta", "Documents for the new contract"),
        ("Pregunta sobre el seguro de hogar", "Question about home insurance"),
        ("Baja de comunicaciones comerciales", "Unsubscribe from marketing"),
        ("Consulta sobre el pedido", "Question about an order"),
    ),
    ("email", "outbound"): (
        ("Confirmación del cambio de tarifa", "Plan change confirmed"),
        ("Respuesta a su reclamación", "Reply to your complaint"),
        ("Factura electrónica disponible", "E-invoice available"),
        ("Propuesta personalizada", "A proposal for you"),
    ),
    ("web", "inbound"): (
        ("Formulario de contacto: facturación", "Contact form: billing"),
        ("Alta online de Fibra 600 Mb", "Online sign-up for Fibre 600 Mb"),
        ("Pedido online de smartphone", "Online smartphone order"),
        ("Cambio de datos personales en el área de cliente", "Personal details changed online"),
        ("Solicitud de portabilidad online", "Online number port request"),
    ),
    ("chat", "inbound"): (
        ("Chat: estado del pedido", "Chat: order status"),
        ("Chat: no funciona el decodificador", "Chat: set-top box not working"),
        ("Chat: consumo de datos", "Chat: data usage"),
        ("Chat: dudas sobre la factura", "Chat: billing questions"),
        ("Chat: activar roaming", "Chat: switch on roaming"),
    ),
    ("chat", "outbound"): (("Chat proactivo: carrito abandonado", "Proactive chat: basket left"),),
    ("store", "inbound"): (
        ("Compra de terminal en tienda", "Bought a handset in store"),
        ("Recogida de router", "Collected a router"),
        ("Cambio de SIM", "SIM swap"),
        ("Reparación de dispositivo", "Device repair"),
        ("Consulta presencial sobre tarifas", "Asked about plans in store"),
    ),
    ("sales_visit", "outbound"): (
        ("Visita comercial: energía", "Sales visit: energy"),
        ("Visita comercial: paquete fibra + TV", "Sales visit: fibre + TV bundle"),
        ("Visita comercial: seguro de hogar", "Sales visit: home insurance"),
    ),
}

SUBJECT_REASONS: dict[str, str] = {
    "Consulta sobre la factura de este mes": "billing",
    "Cargo duplicado en la factura": "billing",
    "Avería: sin conexión de fibra": "technical",
    "Sin cobertura móvil en casa": "technical",
    "Quiere cambiar de tarifa": "sales",
    "Solicita la portabilidad de su línea": "sales",
    "Baja del servicio de TV": "cancellation",
    "Reclamación por retraso en la instalación": "complaint",
    "Cambio de domicilio": "address change",
    "Duda sobre los puntos de fidelización": "information",
    "Pide información sobre Fibra 1 Gb": "information",
    "Robo del móvil: bloqueo de SIM": "technical",
    "Cambio de cuenta bancaria": "billing",
    "Router no enciende": "technical",
    "Consulta sobre la tarifa de luz": "billing",
    "Solicitud de duplicado de factura": "billing",
    "Reclamación formal": "complaint",
    "Formulario de contacto: facturación": "billing",
    "Chat: no funciona el decodificador": "technical",
    "Chat: dudas sobre la factura": "billing",
}
"""The reason code (core/i18n/codes.toml) of a subject, by its Spanish words; none for the rest.
What the open-complaint flag and the rules read, in either language of the demo."""

OUTCOMES: dict[str, tuple[tuple[str, float], ...]] = {
    "phone": (
        ("resolved", 0.55),
        ("follow-up", 0.12),
        ("escalated", 0.06),
        ("sale", 0.10),
        ("callback requested", 0.07),
        ("no action", 0.10),
    ),
    "email": (("resolved", 0.60), ("follow-up", 0.20), ("escalated", 0.05), ("no action", 0.15)),
    "web": (("resolved", 0.50), ("sale", 0.35), ("no action", 0.15)),
    "chat": (("resolved", 0.70), ("follow-up", 0.10), ("sale", 0.08), ("escalated", 0.12)),
    "store": (("resolved", 0.50), ("sale", 0.45), ("no action", 0.05)),
    "sales_visit": (("sale", 0.35), ("follow-up", 0.30), ("no action", 0.35)),
}

NOTES: tuple[tuple[str, str], ...] = (
    ("Cliente muy amable. Se le explica la factura línea a línea.", "Explained the bill."),
    ("Se reinicia el router en remoto y vuelve la conexión.", "Remote router reset fixed it."),
    ("Pide que le llamemos por la tarde, después de las 18:00.", "Call back after 6 pm."),
    ("Molesto por el tiempo de espera. Se ofrece compensación.", "Upset at the wait; goodwill."),
    ("Se abre incidencia con el técnico de zona.", "Ticket opened with field team."),
    ("Interesado en la oferta, lo consultará con su pareja.", "Interested; will discuss it."),
    ("Se actualiza el IBAN.", "Bank details updated."),
    ("No quiere recibir más ofertas por teléfono.", "Does not want phone offers."),
)

PURCHASE_CHANNELS: tuple[tuple[str, float], ...] = (
    ("store", 0.34),
    ("web", 0.36),
    ("phone", 0.20),
    ("sales_visit", 0.10),
)

NPS_COMMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "promoter": (
        ("Muy buena atención, resolvieron todo a la primera.", "Great service, fixed first time."),
        ("La fibra va genial.", "The fibre is excellent."),
        ("Buen precio y sin sorpresas.", "Fair price, no surprises."),
    ),
    "passive": (
        ("Está bien, pero la factura es difícil de entender.", "Fine, but the bill is confusing."),
        ("Correcto, aunque tardaron en contestar.", "OK, but slow to answer."),
    ),
    "detractor": (
        ("Llevo una semana sin internet.", "A week without internet."),
        ("Me cobraron de más y nadie me llama.", "Overcharged and no one calls back."),
        ("Demasiado tiempo de espera al teléfono.", "Far too long on hold."),
        ("Me voy a la competencia.", "I'm leaving for a competitor."),
    ),
}
