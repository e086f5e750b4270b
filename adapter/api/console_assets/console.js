/* The operator console: reads the adapter's own FHIR API with the operator's bearer token.
   The token stays in sessionStorage (this tab only) and is sent as Authorization: Bearer on the
   console's calls; nothing is ever put in the URL, the DOM is built with textContent only. */
"use strict";

(function () {
  var TOKEN_KEY = "adapter.console.token";
  var LANG_KEY = "adapter.console.lang";
  var FHIR_JSON = "application/fhir+json";
  var ZONE = "Europe/Paris";

  /* Every string the console shows, French first. */
  var STRINGS = {
    fr: {
      skip: "Aller au contenu",
      title: "Console opérateur",
      switchTo: "English",
      signout: "Se déconnecter",
      signinTitle: "Connexion",
      signinHelp: "Collez un jeton d'accès (bearer) accordant system/ClaimResponse.read ; system/Claim.write permet aussi de relancer les demandes en échec. Le jeton reste dans cet onglet (sessionStorage) et disparaît à sa fermeture.",
      tokenLabel: "Jeton d'accès",
      signin: "Se connecter",
      signedIn: "Connecté : {client}",
      tokenMissing: "Collez un jeton.",
      tokenRefused: "Jeton refusé ({code}).",
      tokenNoRead: "Ce jeton n'accorde pas system/ClaimResponse.read.",
      sessionOver: "Session terminée : reconnectez-vous.",
      searchTitle: "Demandes de remboursement",
      patient: "NIR du patient",
      from: "Reçue du",
      to: "au",
      outcome: "Résultat",
      any: "Tous",
      "outcome.complete": "Traitée",
      "outcome.partial": "Partielle",
      "outcome.error": "Rejetée",
      "outcome.queued": "En attente",
      "state.pending": "En attente",
      "state.dead": "Lettre morte",
      payer: "Payeur (organisme AMO ou n° AMC)",
      search: "Rechercher",
      clear: "Effacer",
      resultsCaption: "Demandes trouvées",
      resultsCount: "{n} demande(s) affichée(s).",
      "col.received": "Reçue le",
      "col.claim": "Demande",
      "col.patient": "Patient",
      "col.outcome": "Résultat",
      "col.submitted": "Facturé",
      "col.amo": "AMO",
      "col.amc": "AMC",
      "col.rac": "Reste à charge",
      "col.action": "Action",
      "col.state": "État",
      "col.reason": "Motif",
      noResults: "Aucune demande ne correspond.",
      previous: "Page précédente",
      next: "Page suivante",
      searchHelp: "Choisissez une demande (son identifiant) pour voir son explication ligne par ligne.",
      explainFor: "Explication de la demande {claim}",
      explanationTitle: "Explication de la demande",
      loading: "Chargement…",
      loaded: "Explication de la demande {claim} affichée.",
      back: "Retour à la liste",
      received: "Reçue le",
      claimId: "Demande",
      amoPayer: "AMO",
      amcPayer: "AMC",
      none: "aucune",
      linesCaption: "Lignes de la demande",
      totals: "Total",
      "line.seq": "Ligne",
      "line.code": "Code LPP",
      "line.submitted": "Facturé",
      "line.br": "Base de remboursement (BR)",
      "line.rate": "Taux AMO",
      "line.amo": "AMO",
      "line.tm": "Ticket modérateur",
      "line.dep": "Dépassement",
      "line.amc": "AMC",
      "line.rac": "Reste à charge",
      lineDetail: "Ligne {n}",
      amoNotes: "Assurance maladie obligatoire (AMO)",
      amcNotes: "Complémentaire (AMC) et garantie appliquée",
      generalNotes: "Notes générales",
      findings: "Constats",
      rejections: "Rejets",
      noFindings: "Aucun constat.",
      disposition: "Décision",
      queueTitle: "Demandes en attente et lettres mortes",
      queueHelp: "Mode connecté : les demandes dont les payeurs n'ont pas encore répondu (en attente) ou n'ont jamais répondu (lettres mortes). Relancer demande à nouveau la décision aux payeurs ; il faut le droit system/Claim.write.",
      queueCaption: "Demandes non décidées",
      queueEmpty: "Aucune demande en attente ni en lettre morte.",
      refresh: "Actualiser",
      requeue: "Relancer",
      requeueFor: "Relancer la demande {claim}",
      requeued: "Demande {claim} relancée : elle est de nouveau en attente.",
      requeueForbidden: "Relance refusée : ce jeton n'accorde pas system/Claim.write.",
      requeueConflict: "La demande {claim} n'est plus en lettre morte.",
      failed: "Échec de l'appel ({status} {code}).",
      unreachable: "Le service ne répond pas."
    },
    en: {
      skip: "Skip to content",
      title: "Operator console",
      switchTo: "Français",
      signout: "Sign out",
      signinTitle: "Sign in",
      signinHelp: "Paste an access (bearer) token granting system/ClaimResponse.read; system/Claim.write also lets you requeue failed claims. The token stays in this tab (sessionStorage) and is gone when it closes.",
      tokenLabel: "Access token",
      signin: "Sign in",
      signedIn: "Signed in: {client}",
      tokenMissing: "Paste a token.",
      tokenRefused: "Token refused ({code}).",
      tokenNoRead: "This token does not grant system/ClaimResponse.read.",
      sessionOver: "Session over: sign in again.",
      searchTitle: "Reimbursement claims",
      patient: "Patient NIR",
      from: "Received from",
      to: "to",
      outcome: "Outcome",
      any: "Any",
      "outcome.complete": "Complete",
      "outcome.partial": "Partial",
      "outcome.error": "Rejected",
      "outcome.queued": "Queued",
      "state.pending": "Pending",
      "state.dead": "Dead letter",
      payer: "Payer (AMO organisme or AMC number)",
      search: "Search",
      clear: "Clear",
      resultsCaption: "Claims found",
      resultsCount: "{n} claim(s) shown.",
      "col.received": "Received",
      "col.claim": "Claim",
      "col.patient": "Patient",
      "col.outcome": "Outcome",
      "col.submitted": "Billed",
      "col.amo": "AMO",
      "col.amc": "AMC",
      "col.rac": "Out of pocket",
      "col.action": "Action",
      "col.state": "State",
      "col.reason": "Reason",
      noResults: "No claim matches.",
      previous: "Previous page",
      next: "Next page",
      searchHelp: "Choose a claim (its identifier) to see its explanation line by line.",
      explainFor: "Explanation of claim {claim}",
      explanationTitle: "Explanation of the claim",
      loading: "Loading…",
      loaded: "Explanation of claim {claim} shown.",
      back: "Back to the list",
      received: "Received",
      claimId: "Claim",
      amoPayer: "AMO",
      amcPayer: "AMC",
      none: "none",
      linesCaption: "Lines of the claim",
      totals: "Total",
      "line.seq": "Line",
      "line.code": "LPP code",
      "line.submitted": "Billed",
      "line.br": "Reimbursement base (BR)",
      "line.rate": "AMO rate",
      "line.amo": "AMO",
      "line.tm": "Ticket modérateur",
      "line.dep": "Excess (dépassement)",
      "line.amc": "AMC",
      "line.rac": "Out of pocket",
      lineDetail: "Line {n}",
      amoNotes: "Statutory insurance (AMO)",
      amcNotes: "Complementary insurance (AMC) and the guarantee applied",
      generalNotes: "General notes",
      findings: "Findings",
      rejections: "Rejections",
      noFindings: "No findings.",
      disposition: "Disposition",
      queueTitle: "Pending claims and dead letters",
      queueHelp: "Connected mode: the claims whose payers have not answered yet (pending) or never did (dead letters). Requeue asks the payers again; it needs system/Claim.write.",
      queueCaption: "Undecided claims",
      queueEmpty: "No pending claim and no dead letter.",
      refresh: "Refresh",
      requeue: "Requeue",
      requeueFor: "Requeue claim {claim}",
      requeued: "Claim {claim} requeued: it is pending again.",
      requeueForbidden: "Requeue refused: this token does not grant system/Claim.write.",
      requeueConflict: "Claim {claim} is no longer a dead letter.",
      failed: "The call failed ({status} {code}).",
      unreachable: "The service does not answer."
    }
  };

  var state = {
    lang: localStorage.getItem(LANG_KEY) === "en" ? "en" : "fr",
    query: null,
    page: null,
    explained: null,
    opener: null
  };

  function $(id) { return document.getElementById(id); }

  function t(key, values) {
    var text = STRINGS[state.lang][key];
    if (text === undefined) { text = STRINGS.fr[key] || key; }
    if (values) {
      Object.keys(values).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    }
    return text;
  }

  /* An element with attributes and children (strings become text nodes: never HTML). */
  function h(tag, attrs) {
    var element = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { element.textContent = value; } else { element.setAttribute(name, value === true ? "" : value); }
    });
    for (var i = 2; i < arguments.length; i += 1) {
      var child = arguments[i];
      if (child === null || child === undefined) { continue; }
      element.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return element;
  }

  function say(message, isError) {
    var status = $("status");
    status.textContent = message || "";
    status.classList.toggle("error", Boolean(isError));
  }

  /* -- language ------------------------------------------------------------------------- */

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = t("title") + " — " + (state.lang === "fr" ? "adaptateur LPP" : "LPP adapter");
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (element) {
      element.textContent = t(element.getAttribute("data-i18n"));
    });
    var toggle = $("lang");
    toggle.textContent = t("switchTo");
    toggle.setAttribute("lang", state.lang === "fr" ? "en" : "fr");
    showWho();
    if (state.page) { renderResults(state.page); }
    if (state.explained) { renderExplanation(state.explained); }
    if (state.queue) { renderQueue(state.queue); }
  }

  /* -- formatting ----------------------------------------------------------------------- */

  function locale() { return state.lang === "fr" ? "fr-FR" : "en-GB"; }

  function money(value) {
    if (typeof value !== "number") { return null; }
    return new Intl.NumberFormat(locale(), { style: "currency", currency: "EUR" }).format(value);
  }

  function amountCell(value, tag) {
    var text = money(value);
    return h(tag || "td", { "class": "num", "data-amount": text === null ? null : value.toFixed(2), text: text === null ? "—" : text });
  }

  function when(iso) {
    if (!iso) { return "—"; }
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) { return iso; }
    return new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "short", timeZone: ZONE }).format(moment);
  }

  function badge(kind, code) {
    return h("span", { "class": "badge " + code, text: t(kind + "." + code) });
  }

  /* -- reading the ClaimResponses ------------------------------------------------------- */

  function code(concept) {
    return concept && concept.coding && concept.coding[0] ? concept.coding[0].code : null;
  }

  function amounts(adjudications) {
    var found = {};
    (adjudications || []).forEach(function (adjudication) {
      var category = code(adjudication.category);
      if (!category) { return; }
      if (adjudication.amount) { found[category] = adjudication.amount.value; } else if (adjudication.value !== undefined) { found[category] = adjudication.value; }
    });
    return found;
  }

  function isAmc(response) {
    return (response.insurance || []).some(function (insurance) {
      return insurance.focal && insurance.coverage && /^AMC\b/.test(insurance.coverage.display || "");
    });
  }

  function claimIdOf(response) {
    var reference = response.request && response.request.reference;
    return reference ? reference.split("/").pop() : null;
  }

  function claimLabel(response) {
    var identifier = response.request && response.request.identifier;
    return identifier && identifier.value ? identifier.value : claimIdOf(response) || response.id;
  }

  function nirOf(response) {
    var identifier = response.patient && response.patient.identifier;
    return identifier ? identifier.value : "—";
  }

  var RANK = { complete: 0, partial: 1, queued: 2, error: 3 };

  /* The ClaimResponses of one page grouped by claim, in the order the search gave them. */
  function claims(resources) {
    var byClaim = {};
    var order = [];
    resources.forEach(function (response) {
      var key = claimIdOf(response) || response.id;
      if (!byClaim[key]) { byClaim[key] = { id: key, amo: null, amc: null }; order.push(key); }
      byClaim[key][isAmc(response) ? "amc" : "amo"] = response;
    });
    return order.map(function (key) {
      var claim = byClaim[key];
      var first = claim.amo || claim.amc;
      var worst = [claim.amo, claim.amc].filter(Boolean).map(function (r) { return r.outcome; })
        .sort(function (a, b) { return (RANK[b] || 0) - (RANK[a] || 0); })[0];
      claim.first = first;
      claim.outcome = worst;
      return claim;
    });
  }

  /* -- the API -------------------------------------------------------------------------- */

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function ApiError(status, code) { this.status = status; this.code = code; }

  function api(path, options) {
    var init = options || {};
    var headers = { "Accept": FHIR_JSON, "Authorization": "Bearer " + token() };
    return fetch(path, { method: init.method || "GET", headers: headers, cache: "no-store", credentials: "omit" })
      .then(function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (ignored) { body = null; }
          if (!response.ok) {
            var issue = body && body.issue && body.issue[0];
            var error = new ApiError(response.status, issue ? code(issue.details) || issue.code : "");
            if (response.status === 401 && !init.signingIn) { signOut(t("sessionOver")); }
            throw error;
          }
          return body;
        });
      }, function () { throw new ApiError(0, "network"); });
  }

  function failure(error) {
    if (error instanceof ApiError) {
      if (error.status === 0) { return t("unreachable"); }
      return t("failed", { status: error.status, code: error.code || "" });
    }
    return String(error);
  }

  function searchPath(params) {
    var query = new URLSearchParams();
    params.forEach(function (pair) { if (pair[1]) { query.append(pair[0], pair[1]); } });
    return "/ClaimResponse?" + query.toString();
  }

  /* -- sign in and out ------------------------------------------------------------------ */

  function clientOf(jwt) {
    try {
      var payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var claims_ = JSON.parse(atob(payload));
      return claims_.client_id || claims_.sub || "?";
    } catch (ignored) { return "?"; }
  }

  function showWho() {
    var current = token();
    $("who").textContent = current ? t("signedIn", { client: clientOf(current) }) : "";
  }

  function signedIn() {
    $("signin").hidden = true;
    $("app").hidden = false;
    $("signout").hidden = false;
    showWho();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.page = null;
    state.explained = null;
    state.queue = null;
    $("app").hidden = true;
    $("signout").hidden = true;
    $("signin").hidden = false;
    $("results").tBodies[0].replaceChildren();
    $("queue-table").tBodies[0].replaceChildren();
    $("explanation").hidden = true;
    showWho();
    say(message || "", Boolean(message));
    $("token").focus();
  }

  function onSignIn(event) {
    event.preventDefault();
    var field = $("token");
    var value = field.value.trim().replace(/^Bearer\s+/i, "");
    var problem = $("signin-error");
    problem.hidden = true;
    field.removeAttribute("aria-invalid");
    if (!value) { return refuse(t("tokenMissing")); }
    sessionStorage.setItem(TOKEN_KEY, value);
    api("/ClaimResponse?_count=0", { signingIn: true }).then(function () {
      field.value = "";
      signedIn();
      say(t("signedIn", { client: clientOf(value) }));
      $("q-patient").focus();
      runSearch([]);
      loadQueue();
    }, function (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      if (error.status === 403) { return refuse(t("tokenNoRead")); }
      if (error.status === 401) { return refuse(t("tokenRefused", { code: error.code })); }
      return refuse(failure(error));
    });

    function refuse(message) {
      problem.textContent = message;
      problem.hidden = false;
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  /* -- search --------------------------------------------------------------------------- */

  function onSearch(event) {
    event.preventDefault();
    var params = [
      ["patient.identifier", $("q-patient").value.trim()],
      ["insurer", $("q-payer").value.trim()],
      ["outcome", $("q-outcome").value]
    ];
    if ($("q-from").value) { params.push(["created", "ge" + $("q-from").value]); }
    if ($("q-to").value) { params.push(["created", "le" + $("q-to").value]); }
    runSearch(params);
  }

  function runSearch(params, offset) {
    state.query = params;
    var all = params.concat([["_count", "20"], ["_offset", offset ? String(offset) : ""]]);
    say(t("loading"));
    return api(searchPath(all)).then(function (bundle) {
      state.page = bundle;
      renderResults(bundle);
      say(t("resultsCount", { n: claims(resources(bundle)).length }));
    }, function (error) { say(failure(error), true); });
  }

  function resources(bundle) {
    return (bundle.entry || []).map(function (entry) { return entry.resource; })
      .filter(function (resource) { return resource && resource.resourceType === "ClaimResponse"; });
  }

  function offsetOf(bundle, relation) {
    var link = (bundle.link || []).filter(function (l) { return l.relation === relation; })[0];
    if (!link) { return null; }
    return new URL(link.url, location.href).searchParams.get("_offset");
  }

  function renderResults(bundle) {
    var body = $("results").tBodies[0];
    body.replaceChildren();
    var rows = claims(resources(bundle));
    rows.forEach(function (claim) {
      var amo = claim.amo ? amounts(claim.amo.total) : {};
      var amc = claim.amc ? amounts(claim.amc.total) : {};
      var label = claimLabel(claim.first);
      var button = h("button", {
        type: "button", "class": "link explain", "data-claim": claim.id,
        "aria-label": t("explainFor", { claim: label }), text: label
      });
      button.addEventListener("click", function () { explain(claim.id, button); });
      body.appendChild(h("tr", { "data-claim": claim.id },
        h("th", { scope: "row" }, button),
        h("td", { text: when(claim.first.created) }),
        h("td", { text: nirOf(claim.first) }),
        h("td", {}, badge("outcome", claim.outcome)),
        amountCell(amo.submitted !== undefined ? amo.submitted : amc.submitted),
        amountCell(amo.benefit),
        amountCell(amc.benefit),
        amountCell(amc["reste-a-charge"])
      ));
    });
    $("results-empty").hidden = rows.length > 0;
    $("prev").hidden = offsetOf(bundle, "previous") === null;
    $("next").hidden = offsetOf(bundle, "next") === null;
  }

  /* -- one claim's explanation ---------------------------------------------------------- */

  function explain(claimId, opener) {
    state.opener = opener || null;
    say(t("loading"));
    var answer = api("/Claim/" + encodeURIComponent(claimId) + "/$answer");
    var submitted = api("/Bundle/" + encodeURIComponent(claimId) + "?_format=json").catch(function () { return null; });
    return Promise.all([answer, submitted]).then(function (results) {
      state.explained = { id: claimId, answer: results[0], claim: results[1] };
      renderExplanation(state.explained);
      var section = $("explanation");
      section.hidden = false;
      $("explanation-title").focus();
      say(t("loaded", { claim: state.explained.label }));
    }, function (error) { say(failure(error), true); });
  }

  function notesIn(response) {
    var wanted = state.lang === "fr" ? "fr" : "en";
    var general = [];
    var lines = {};
    (response ? response.processNote || [] : []).forEach(function (note) {
      var language = code(note.language) || "";
      if (language.split("-")[0] !== wanted) { return; }
      var match = /^(?:Ligne|Line) (\d+)\b/.exec(note.text || "");
      if (match) { (lines[match[1]] = lines[match[1]] || []).push(note.text); } else { general.push(note.text); }
    });
    return { general: general, lines: lines };
  }

  function submittedLines(bundle) {
    var found = {};
    var claim = bundle && (bundle.entry || []).map(function (e) { return e.resource; })
      .filter(function (r) { return r && r.resourceType === "Claim"; })[0];
    ((claim && claim.item) || []).forEach(function (item) {
      var coding = item.productOrService && item.productOrService.coding && item.productOrService.coding[0];
      found[item.sequence] = coding ? { code: coding.code || "—", display: coding.display || "" } : null;
    });
    return found;
  }

  function lineSequences(amo, amc) {
    var seen = {};
    [amo, amc].forEach(function (response) {
      ((response && response.item) || []).forEach(function (item) { seen[item.itemSequence] = true; });
    });
    return Object.keys(seen).map(Number).sort(function (a, b) { return a - b; });
  }

  function itemOf(response, sequence) {
    return ((response && response.item) || []).filter(function (item) { return item.itemSequence === sequence; })[0];
  }

  function list(items, className, language) {
    var element = h("ul", { "class": "notes", lang: language || null });
    items.forEach(function (text) { element.appendChild(h("li", { "class": className || null, text: text })); });
    return element;
  }

  function renderExplanation(explained) {
    var responses = (explained.answer.entry || []).map(function (entry) { return entry.resource; });
    var amo = null, amc = null, outcome = null;
    responses.forEach(function (resource) {
      if (!resource) { return; }
      if (resource.resourceType === "ClaimResponse") { if (isAmc(resource)) { amc = resource; } else { amo = resource; } }
      if (resource.resourceType === "OperationOutcome") { outcome = resource; }
    });
    var first = amo || amc;
    explained.label = first ? claimLabel(first) : explained.id;
    var codes = submittedLines(explained.claim);
    var container = $("explanation-body");
    container.replaceChildren();
    $("explanation-title").textContent = t("explainFor", { claim: explained.label });

    var worst = claims([amo, amc].filter(Boolean))[0];
    var summary = h("dl", { "class": "summary" },
      h("div", {}, h("dt", { text: t("received") }), h("dd", { text: when(first && first.created) })),
      h("div", {}, h("dt", { text: t("col.patient") }), h("dd", { text: first ? nirOf(first) : "—" })),
      h("div", {}, h("dt", { text: t("col.outcome") }), h("dd", {}, worst ? badge("outcome", worst.outcome) : "—")),
      h("div", {}, h("dt", { text: t("amoPayer") }), h("dd", { text: payerOf(amo) })),
      h("div", {}, h("dt", { text: t("amcPayer") }), h("dd", { text: payerOf(amc) }))
    );
    container.appendChild(summary);

    var dispositions = [amo, amc].filter(Boolean).map(function (r) { return r.disposition; }).filter(Boolean);
    if (dispositions.length) {
      container.appendChild(h("h3", { text: t("disposition") }));
      container.appendChild(list(dispositions, null, "en"));
    }

    /* The lines: amounts from the adjudications, totals from ClaimResponse.total. */
    var headers = ["line.seq", "line.code", "line.submitted", "line.br", "line.rate", "line.amo", "line.tm", "line.dep", "line.amc", "line.rac"];
    var headRow = h("tr");
    headers.forEach(function (key, index) {
      headRow.appendChild(h("th", { scope: "col", "class": index > 1 ? "num" : null, text: t(key) }));
    });
    var body = h("tbody");
    var sequences = lineSequences(amo, amc);
    sequences.forEach(function (sequence) {
      var a = amounts((itemOf(amo, sequence) || {}).adjudication);
      var c = amounts((itemOf(amc, sequence) || {}).adjudication);
      body.appendChild(h("tr", { "data-line": String(sequence) },
        h("th", { scope: "row", text: String(sequence) }),
        h("td", { title: codes[sequence] ? codes[sequence].display : null, text: codes[sequence] ? codes[sequence].code : "—" }),
        amountCell(a.submitted !== undefined ? a.submitted : c.submitted),
        amountCell(a.eligible !== undefined ? a.eligible : c.eligible),
        h("td", { "class": "num", "data-rate": a.eligpercent !== undefined ? String(a.eligpercent) : null, text: a.eligpercent !== undefined ? a.eligpercent + " %" : "—" }),
        amountCell(a.benefit),
        amountCell(a["ticket-moderateur"]),
        amountCell(a.depassement),
        amountCell(c.benefit),
        amountCell(c["reste-a-charge"])
      ));
    });
    var ta = amounts(amo && amo.total), tc = amounts(amc && amc.total);
    var foot = h("tfoot", {}, h("tr", { "data-line": "total" },
      h("th", { scope: "row", colspan: "2", text: t("totals") }),
      amountCell(ta.submitted !== undefined ? ta.submitted : tc.submitted),
      amountCell(ta.eligible !== undefined ? ta.eligible : tc.eligible),
      h("td", { "class": "num", text: "" }),
      amountCell(ta.benefit),
      amountCell(ta["ticket-moderateur"]),
      amountCell(ta.depassement),
      amountCell(tc.benefit),
      amountCell(tc["reste-a-charge"])
    ));
    container.appendChild(h("div", { "class": "table-wrap", role: "region", "aria-labelledby": "lines-caption", tabindex: "0" },
      h("table", { id: "lines" },
        h("caption", { id: "lines-caption", text: t("linesCaption") }),
        h("thead", {}, headRow), body, foot)));

    /* Why: the payers' notes in the chosen language, the rejections and the findings, line by line. */
    var amoNotes = notesIn(amo), amcNotes = notesIn(amc);
    var findings = findingsOf(outcome);
    var rejections = rejectionsOf([amo, amc]);
    if (amoNotes.general.length || amcNotes.general.length || findings.general.length) {
      container.appendChild(h("h3", { text: t("generalNotes") }));
      if (amoNotes.general.length) { container.appendChild(h("h4", { text: t("amoNotes") })); container.appendChild(list(amoNotes.general)); }
      if (amcNotes.general.length) { container.appendChild(h("h4", { text: t("amcNotes") })); container.appendChild(list(amcNotes.general)); }
      if (findings.general.length) { container.appendChild(h("h4", { text: t("findings") })); container.appendChild(list(findings.general, "finding", "en")); }
    }
    sequences.forEach(function (sequence) {
      var detail = h("section", { "class": "line-detail", "aria-labelledby": "line-" + sequence + "-title" },
        h("h3", { id: "line-" + sequence + "-title", text: t("lineDetail", { n: sequence }) + describe(codes[sequence]) }));
      var key = String(sequence);
      if (amoNotes.lines[key]) { detail.appendChild(h("h4", { text: t("amoNotes") })); detail.appendChild(list(amoNotes.lines[key])); }
      if (amcNotes.lines[key]) { detail.appendChild(h("h4", { text: t("amcNotes") })); detail.appendChild(list(amcNotes.lines[key])); }
      if (rejections[key]) { detail.appendChild(h("h4", { text: t("rejections") })); detail.appendChild(list(rejections[key], "rejection", "en")); }
      detail.appendChild(h("h4", { text: t("findings") }));
      detail.appendChild(findings.lines[key] ? list(findings.lines[key], "finding", "en") : h("p", { "class": "empty", text: t("noFindings") }));
      container.appendChild(detail);
    });
  }

  function describe(coding) {
    if (!coding) { return ""; }
    return " — " + coding.code + (coding.display ? " (" + coding.display + ")" : "");
  }

  function payerOf(response) {
    var identifier = response && response.insurer && response.insurer.identifier;
    return identifier ? identifier.value : t("none");
  }

  function findingsOf(outcome) {
    var general = [];
    var lines = {};
    ((outcome && outcome.issue) || []).forEach(function (issue) {
      var details = issue.details || {};
      var text = (code(details) || issue.code) + (details.text ? " : " + details.text : "");
      var sequence = null;
      (issue.extension || []).forEach(function (extension) {
        if (extension.valuePositiveInt !== undefined) { sequence = String(extension.valuePositiveInt); }
      });
      if (sequence) { (lines[sequence] = lines[sequence] || []).push(text); } else { general.push(text); }
    });
    return { general: general, lines: lines };
  }

  function rejectionsOf(responses) {
    var lines = {};
    responses.forEach(function (response) {
      ((response && response.error) || []).forEach(function (error) {
        var key = String(error.itemSequence || "");
        var text = (code(error.code) || "") + (error.code && error.code.text ? " : " + error.code.text : "");
        (lines[key] = lines[key] || []).push(text);
      });
    });
    return lines;
  }

  /* -- pending claims and dead letters -------------------------------------------------- */

  function loadQueue() {
    var pending = api("/ClaimResponse?state=pending&_count=100");
    var dead = api("/ClaimResponse?state=dead&_count=100");
    return Promise.all([pending, dead]).then(function (bundles) {
      state.queue = { pending: claims(resources(bundles[0])), dead: claims(resources(bundles[1])) };
      renderQueue(state.queue);
    }, function (error) { say(failure(error), true); });
  }

  function renderQueue(queue) {
    var body = $("queue-table").tBodies[0];
    body.replaceChildren();
    var rows = queue.dead.map(function (c) { return ["dead", c]; }).concat(queue.pending.map(function (c) { return ["pending", c]; }));
    rows.forEach(function (row) {
      var kind = row[0], claim = row[1];
      var label = claimLabel(claim.first);
      var reasons = rejectionsOf([claim.amo, claim.amc]);
      var reason = Object.keys(reasons).map(function (k) { return reasons[k].join(" ; "); }).join(" ; ");
      var action = h("td");
      if (kind === "dead") {
        var button = h("button", { type: "button", "class": "small requeue", "data-claim": claim.id, "aria-label": t("requeueFor", { claim: label }), text: t("requeue") });
        button.addEventListener("click", function () { requeue(claim.id, label, button); });
        action.appendChild(button);
      }
      body.appendChild(h("tr", { "data-claim": claim.id },
        h("td", { text: when(claim.first.created) }),
        h("th", { scope: "row", text: label }),
        h("td", { text: nirOf(claim.first) }),
        h("td", {}, badge("state", kind)),
        h("td", { text: reason || "—" }),
        action
      ));
    });
    $("queue-empty").hidden = rows.length > 0;
  }

  function requeue(claimId, label, button) {
    button.disabled = true;
    return api("/Claim/" + encodeURIComponent(claimId) + "/$requeue", { method: "POST" }).then(function () {
      say(t("requeued", { claim: label }));
      return loadQueue();
    }, function (error) {
      button.disabled = false;
      if (error.status === 403) { say(t("requeueForbidden"), true); } else if (error.status === 409) { say(t("requeueConflict", { claim: label }), true); loadQueue(); } else { say(failure(error), true); }
    }).then(function () { $("queue-title").focus(); });
  }

  /* -- wiring --------------------------------------------------------------------------- */

  function start() {
    $("queue-title").setAttribute("tabindex", "-1");
    $("search-title").setAttribute("tabindex", "-1");
    $("signin-form").addEventListener("submit", onSignIn);
    $("search-form").addEventListener("submit", onSearch);
    $("search-form").addEventListener("reset", function () { setTimeout(function () { runSearch([]); }, 0); });
    $("signout").addEventListener("click", function () { signOut(""); });
    $("lang").addEventListener("click", function () {
      state.lang = state.lang === "fr" ? "en" : "fr";
      localStorage.setItem(LANG_KEY, state.lang);
      applyLanguage();
    });
    $("prev").addEventListener("click", function () { runSearch(state.query || [], offsetOf(state.page, "previous")); });
    $("next").addEventListener("click", function () { runSearch(state.query || [], offsetOf(state.page, "next")); });
    $("back").addEventListener("click", function () {
      $("explanation").hidden = true;
      state.explained = null;
      say("");
      if (state.opener && document.body.contains(state.opener)) { state.opener.focus(); } else { $("search-title").focus(); }
    });
    $("queue-refresh").addEventListener("click", loadQueue);
    applyLanguage();
    if (token()) {
      signedIn();
      runSearch([]);
      loadQueue();
    } else {
      $("token").focus();
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
