/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PIN page, progressively enhanced (installers/pin-page/README.md):
 * without this script the form posts to the relay and the relay answers
 * the page again; with it the PIN is checked by POST /api/v1/pins/check
 * and the same result is shown without a page load.  The words are the
 * page's own (data-msg-* on the form), so both ways say the same.
 *
 * The form says where to ask: data-api (the relay's origin, empty for
 * the relay's own page) and data-org.  No cookies, no referrer, nothing
 * stored.
 */
(function () {
	"use strict";

	var form = document.getElementById("pin-form");
	if (!form || !window.fetch || !window.JSON)
		return;
	var api = form.getAttribute("data-api") || "";
	var org = form.getAttribute("data-org") || "";
	var input = document.getElementById("pin");
	var error = document.getElementById("pin-error");
	var result = document.getElementById("result");
	var submit = form.querySelector("button[type=submit]");

	function words(code) {
		var w = form.getAttribute("data-msg-" + code.replace(/_/g, "-"));
		return w || form.getAttribute("data-msg-internal");
	}

	function busy(on) {
		submit.disabled = on;
		form.setAttribute("aria-busy", on ? "true" : "false");
	}

	function showError(code) {
		result.hidden = true;
		error.textContent = words(code);
		error.hidden = false;
		input.setAttribute("aria-invalid", "true");
		input.focus();
	}

	function showResult(answer) {
		var launch = document.getElementById("launch");
		var dl = document.getElementById("download-form");
		var nodl = document.getElementById("no-download");

		error.hidden = true;
		error.textContent = "";
		input.removeAttribute("aria-invalid");
		document.getElementById("result-tech").textContent =
			answer.technician.name;
		var techOrg = document.getElementById("result-tech-org");
		/* the page may know the org by a nicer name already */
		if (!techOrg.textContent)
			techOrg.textContent = answer.technician.org;
		launch.href = answer.launch_uri;
		if (answer.download) {
			dl.action = api + answer.download_path;
			dl.elements.pin.value = input.value.trim();
			dl.hidden = false;
			nodl.hidden = true;
		} else {
			dl.hidden = true;
			nodl.hidden = false;
		}
		result.hidden = false;
		document.getElementById("result-heading").focus();
	}

	form.addEventListener("submit", function (ev) {
		ev.preventDefault();
		busy(true);
		fetch(api + "/api/v1/pins/check", {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ pin: input.value.trim(), org: org }),
			credentials: "omit",
			cache: "no-store",
			referrerPolicy: "no-referrer",
		})
			.then(function (r) {
				return r.json().then(function (j) {
					return { ok: r.ok, body: j };
				});
			})
			.then(function (x) {
				busy(false);
				if (x.ok)
					showResult(x.body);
				else
					showError(x.body && x.body.error
						? x.body.error.code
						: "internal");
			})
			.catch(function () {
				busy(false);
				showError("network");
			});
	});
})();
