// Small page behaviours kept out of inline handlers, so the Content-Security-Policy can forbid inline script.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.submit();
  }
});
