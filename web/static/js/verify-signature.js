// The receipt check page (/verify/{receipt_no}): checks, in the browser, that the receipt's
// Ed25519 signature (a compact JWS) verifies against the published keys (/.well-known/jwks.json)
// and that what the page shows is what the authority signed. Progressive enhancement: without
// JavaScript the page still shows the receipt's status and explains how to check it offline.
(function () {
  "use strict";

  var TOKEN_TYPE = "outlet-receipt+jws";
  var TYPE_LABELS = { self_operated: "自营", cooperative: "合作" };
  var MESSAGES = {
    checking: "正在核验电子签名…",
    ok: "签名有效：页面内容与备案机关签发的数据一致",
    mismatch: "签名有效，但页面内容与备案机关签发的数据不一致（{fields}）：请以签发数据为准，并向邮政管理部门核实。",
    invalid: "签名无效：数据未能通过备案机关公开密钥的核验，请勿信任此页面内容，并向邮政管理部门核实。",
    unsupported: "此浏览器不支持 Ed25519 签名核验。回执状态以上方显示为准；可换用新版浏览器，或用公开密钥离线核验签名。",
    unavailable: "暂时无法取得签名数据，未能核验签名，请稍后刷新重试。"
  };
  var FIELD_NAMES = {
    receipt_no: "回执编号",
    "outlet.name": "网点名称",
    "outlet.type": "网点类型",
    address: "地址",
    brands: "服务品牌",
    "operator.name": "开办者",
    "operator.uscc": "信用代码",
    issued_on: "备案日期",
    authority: "备案机关"
  };

  function show(region, state, fields) {
    var text = MESSAGES[state].replace("{fields}", (fields || []).join("、"));
    var paragraph = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = text;
    paragraph.appendChild(strong);
    region.replaceChildren(paragraph);
    region.setAttribute("data-state", state);
  }

  function bytesOf(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  function jsonOf(base64url) {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytesOf(base64url)));
  }

  // What each marked element of the page must read, computed from the signed payload.
  function expectedText(payload, field) {
    var outlet = payload.outlet || {};
    switch (field) {
      case "receipt_no":
        return payload.receipt_no;
      case "outlet.name":
        return outlet.name;
      case "outlet.type":
        return TYPE_LABELS[outlet.type] || outlet.type;
      case "address":
        return (outlet.county_name || "") + (outlet.township_name || "") + (outlet.address || "");
      case "brands":
        return (payload.brands || []).map(function (b) { return b.name; }).join("、");
      case "operator.name":
        return (payload.operator || {}).name;
      case "operator.uscc":
        return (payload.operator || {}).uscc;
      case "issued_on":
        return payload.issued_on;
      case "authority":
        return payload.authority;
      default:
        return undefined;
    }
  }

  function differences(payload) {
    var wrong = [];
    var shown = document.querySelectorAll("#receipt [data-signed]");
    for (var i = 0; i < shown.length; i += 1) {
      var field = shown[i].getAttribute("data-signed");
      var expected = expectedText(payload, field);
      if (expected === undefined || String(expected) !== shown[i].textContent.trim()) {
        wrong.push(FIELD_NAMES[field] || field);
      }
    }
    return wrong;
  }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" }).then(
      function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      }
    );
  }

  function unsupported(error) {
    return error && (error.name === "NotSupportedError" || error.name === "UnsupportedError");
  }

  function check(region, receiptNo) {
    if (!window.crypto || !window.crypto.subtle || !window.TextDecoder) {
      show(region, "unsupported");
      return;
    }
    show(region, "checking");
    var encoded = encodeURIComponent(receiptNo);
    Promise.all([getJson("/.well-known/jwks.json"), getJson("/api/v1/public/receipts/" + encoded)])
      .then(
        function (answers) {
          return verify(region, answers[0], answers[1], receiptNo);
        },
        function () {
          show(region, "unavailable");
        }
      )
      .catch(function (error) {
        show(region, unsupported(error) ? "unsupported" : "invalid");
      });
  }

  function verify(region, jwks, receipt, receiptNo) {
    var parts = String(receipt.jws || "").split(".");
    if (parts.length !== 3) {
      show(region, "invalid");
      return undefined;
    }
    var header = jsonOf(parts[0]);
    var jwk = (jwks.keys || []).filter(function (key) { return key.kid === header.kid; })[0];
    if (!jwk || header.typ !== TOKEN_TYPE || (header.alg !== "Ed25519" && header.alg !== "EdDSA")) {
      show(region, "invalid");
      return undefined;
    }
    var algorithm = { name: "Ed25519" };
    var publicKey = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
    return crypto.subtle
      .importKey("jwk", publicKey, algorithm, false, ["verify"])
      .then(function (key) {
        var signed = new TextEncoder().encode(parts[0] + "." + parts[1]);
        return crypto.subtle.verify(algorithm, key, bytesOf(parts[2]), signed);
      })
      .then(function (valid) {
        if (!valid) {
          show(region, "invalid");
          return;
        }
        var payload = jsonOf(parts[1]);
        if (payload.receipt_no !== receiptNo) {
          show(region, "mismatch", [FIELD_NAMES.receipt_no]);
          return;
        }
        var wrong = differences(payload);
        show(region, wrong.length ? "mismatch" : "ok", wrong);
      });
  }

  function start() {
    var region = document.getElementById("signature");
    var receipt = document.getElementById("receipt");
    if (region && receipt) {
      check(region, receipt.getAttribute("data-receipt-no"));
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
