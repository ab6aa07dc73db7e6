// Small enhancements; every page works without them.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });

  // A page that comes back with a refusal scrolls to it, so the reasons are
  // seen next to the form that was refused.
  document.addEventListener("DOMContentLoaded", function () {
    var refusal = document.querySelector("details .refusal, .lead-card.refused");
    if (refusal && refusal.scrollIntoView) {
      refusal.scrollIntoView({ block: "center" });
    }
  });
})();
