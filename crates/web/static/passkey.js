// Passkeys on latch's pages: the one script latch serves. A form marked data-passkey asks latch
// for the ceremony's options, hands them to the browser's navigator.credentials, puts the
// browser's answer in the form's hidden "credential" field and sends the form as any other.
// Without this script, or in a browser without passkeys, those forms stay hidden and every
// other method works as before.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function fromBase64url(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: fromBase64url(d.id), transports: d.transports };
    });
  }

  // The options' JSON form as the browser takes them, where it cannot read that form itself.
  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    options.user = Object.assign({}, json.user, { id: fromBase64url(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  // The browser's answer in WebAuthn's JSON form (RegistrationResponseJSON and its sibling).
  function answerJson(credential) {
    if (typeof credential.toJSON === "function") {
      return credential.toJSON();
    }
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) {
        json.response.userHandle = toBase64url(response.userHandle);
      }
    }
    return json;
  }

  function say(form, words) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) {
      status.textContent = words;
      status.hidden = false;
    }
  }

  function begin(form) {
    var creating = form.getAttribute("data-passkey") === "register";
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    fetch(form.getAttribute("data-options"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: "{}"
    })
      .then(function (answer) {
        return answer.json().then(function (body) {
          if (!answer.ok) {
            throw new Error(body.error && body.error.message ? body.error.message : "");
          }
          return body;
        });
      })
      .then(function (body) {
        return creating
          ? navigator.credentials.create({ publicKey: creationOptions(body.publicKey) })
          : navigator.credentials.get({ publicKey: requestOptions(body.publicKey) });
      })
      .then(function (credential) {
        form.querySelector("input[name=credential]").value = JSON.stringify(answerJson(credential));
        form.submit();
      })
      .catch(function (error) {
        button.disabled = false;
        if (error && error.name === "NotAllowedError") {
          say(form, "The passkey request was cancelled or timed out. You can try again.");
        } else if (error && error.name === "SecurityError") {
          say(form, "Passkeys can't be used at this address. Open latch by its name (for example localhost), not by a number.");
        } else if (error && error.name === "InvalidStateError") {
          say(form, "This device already holds a passkey for your account.");
        } else {
          say(form, (error && error.message) || "Your browser could not use a passkey here. Try again, or use another method.");
        }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var missing = document.querySelectorAll("[data-passkey-missing]");
    for (var m = 0; m < missing.length; m++) {
      missing[m].hidden = true;
    }
    var forms = document.querySelectorAll("form[data-passkey]");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      var area = form.closest("[data-passkey-area]") || form;
      area.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        begin(event.currentTarget);
      });
    }
  });
})();
