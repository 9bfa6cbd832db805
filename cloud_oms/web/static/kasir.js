// Kasir OMS: the few behaviours that need a script. Pages work without it.
// Phone order: customer look-up by phone, item search / barcode, stock while typing.
// Catalog import: runs the import chunk by chunk and moves the progress bar.
// Product look-up fields (data-product-lookup): suggestions while typing.
"use strict";

(function () {
  const csrf = () => {
    const field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  };

  const debounce = (fn, ms) => {
    let timer;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  };

  const getJSON = async (url) => {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return null;
    return response.json();
  };

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) node.append(child);
    return node;
  };

  // --- phone order ----------------------------------------------------------------------------
  const form = document.getElementById("phone-order");
  if (form) {
    const store = document.getElementById("store");
    const tbody = document.querySelector("#lines tbody");
    const empty = document.getElementById("lines-empty");
    const search = document.getElementById("item-search");
    const results = document.getElementById("item-results");
    const phone = document.getElementById("phone");
    const matches = document.getElementById("customer-matches");
    const fallback = tbody.querySelector(".nojs-row");
    if (fallback) fallback.remove();

    const rows = () => Array.from(tbody.querySelectorAll("tr[data-id]"));

    const showAvailability = (row) => {
      const available = row.dataset.available === "" ? null : Number(row.dataset.available);
      const qty = Number(row.querySelector("input.qty").value || 0);
      const cell = row.querySelector(".avail");
      if (available === null) { cell.textContent = ""; return; }
      cell.textContent = available + " available";
      row.classList.toggle("short", qty > available);
      if (qty > available) cell.textContent += " — short by " + (qty - available);
    };

    const refresh = () => {
      empty.hidden = rows().length > 0;
      rows().forEach(showAvailability);
    };

    const addLine = (item) => {
      const existing = rows().find((r) => r.dataset.id === item.id);
      if (existing) {
        const qty = existing.querySelector("input.qty");
        qty.value = Number(qty.value || 0) + 1;
      } else {
        const row = el("tr", { "data-id": item.id, "data-available": String(item.available) },
          el("td", {}, item.name + " ", el("small", {}, item.sku), el("input", { type: "hidden", name: "line_item", value: item.id })),
          el("td", { class: "num" }, item.price_text),
          el("td", {}, el("input", { class: "qty", type: "number", name: "line_qty", min: 1, value: 1, inputMode: "numeric" })),
          el("td", { class: "avail" }),
          el("td", {}, el("button", { type: "button", class: "link remove", textContent: "Remove" })));
        row.querySelector("input.qty").setAttribute("aria-label", "Quantity of " + item.name);
        tbody.append(row);
      }
      results.replaceChildren();
      search.value = "";
      refresh();
    };

    let lastResults = [];
    const findItems = debounce(async () => {
      const q = search.value.trim();
      if (!q) { results.replaceChildren(); return; }
      const url = form.dataset.products + "?" + new URLSearchParams({ store: store.value, q });
      const found = await getJSON(url);
      if (!found || search.value.trim() !== q) return;
      lastResults = found;
      results.replaceChildren(...found.map((item) => {
        const stockText = item.available > 0 ? item.available + " available" : "out of stock";
        const button = el("button", { type: "button", class: item.available > 0 ? "pick" : "pick none" },
          el("strong", {}, item.name), " ", el("small", {}, item.sku), " · " + item.price_text + " · ",
          el("span", { class: "stock" }, stockText));
        button.addEventListener("click", () => addLine(item));
        return el("li", {}, button);
      }));
      if (!found.length) results.append(el("li", { class: "empty" }, "Nothing found"));
    }, 150);

    search.addEventListener("input", findItems);
    search.addEventListener("keydown", async (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault(); // a scanner ends with Enter: add the item, never submit the form
      const q = search.value.trim();
      if (!q) return;
      const url = form.dataset.products + "?" + new URLSearchParams({ store: store.value, q });
      const found = (await getJSON(url)) || lastResults;
      const pick = found.find((item) => item.exact) || (found.length === 1 ? found[0] : null);
      if (pick) addLine(pick);
    });

    tbody.addEventListener("input", (event) => {
      if (event.target.matches("input.qty")) showAvailability(event.target.closest("tr"));
    });
    tbody.addEventListener("click", (event) => {
      if (event.target.matches("button.remove")) { event.target.closest("tr").remove(); refresh(); }
    });

    store.addEventListener("change", async () => {
      const ids = rows().map((r) => r.dataset.id);
      if (!ids.length) return;
      const params = new URLSearchParams({ store: store.value });
      ids.forEach((id) => params.append("product", id));
      const levels = await getJSON(form.dataset.stock + "?" + params);
      if (!levels) return;
      rows().forEach((r) => { r.dataset.available = String(levels[r.dataset.id] ?? ""); });
      refresh();
    });

    const findCustomers = debounce(async () => {
      const digits = phone.value.replace(/\D/g, "");
      if (digits.length < 4) { matches.replaceChildren(); return; }
      const found = await getJSON(form.dataset.customers + "?" + new URLSearchParams({ phone: phone.value }));
      if (!found) return;
      matches.replaceChildren(...found.map((c) => {
        const button = el("button", { type: "button", class: "pick" }, el("strong", {}, c.name), " ", c.phone || "", c.email ? " · " + c.email : "");
        button.addEventListener("click", () => {
          document.getElementById("cust-name").value = c.name;
          if (c.email) document.getElementById("cust-email").value = c.email;
          phone.value = c.phone;
          matches.replaceChildren(el("li", { class: "found" }, "Existing customer: " + c.name));
        });
        return el("li", {}, button);
      }));
      if (!found.length) matches.append(el("li", { class: "empty" }, "New customer: fill in the name"));
    }, 200);
    phone.addEventListener("input", findCustomers);

    const address = document.getElementById("address-field");
    const delivery = () => {
      const chosen = form.querySelector("input[name=delivery]:checked");
      address.hidden = chosen && chosen.value === "pickup";
    };
    form.querySelectorAll("input[name=delivery]").forEach((r) => r.addEventListener("change", delivery));
    delivery();
    refresh();
  }

  // --- product look-up fields -----------------------------------------------------------------
  document.querySelectorAll("input[data-product-lookup]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("list"));
    const store = input.dataset.store;
    input.addEventListener("input", debounce(async () => {
      const q = input.value.trim();
      if (q.length < 2 || !list) return;
      const found = await getJSON(input.dataset.productLookup + "?" + new URLSearchParams({ store, q }));
      if (!found) return;
      list.replaceChildren(...found.map((p) => el("option", { value: p.sku, label: p.name + " · " + p.price_text })));
    }, 150));
  });

  // --- catalog import progress ----------------------------------------------------------------
  const job = document.getElementById("import-job");
  if (job && job.dataset.status === "running") {
    const bar = job.querySelector("progress");
    const text = job.querySelector(".progress-text");
    const manual = job.querySelector("form");
    if (manual) manual.hidden = true;
    const step = async () => {
      const response = await fetch(job.dataset.step, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
      });
      if (!response.ok) { if (manual) manual.hidden = false; text.textContent = "Stopped: " + response.status; return; }
      const state = await response.json();
      bar.max = state.total;
      bar.value = state.done;
      text.textContent = state.done + " of " + state.total + " rows";
      if (state.status === "running") step();
      else window.location.reload();
    };
    step();
  }
})();
