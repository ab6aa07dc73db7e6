// Meeting mode: the pulse one item at a time, and a 15-minute timer.
// Without JavaScript every item shows, one under another, and the form works.
(function () {
  "use strict";

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clock(seconds) {
    var whole = Math.max(0, Math.ceil(seconds));
    return Math.floor(whole / 60) + ":" + pad(whole % 60);
  }

  function setUpTimer(timer) {
    var total = parseInt(timer.getAttribute("data-seconds"), 10) || 900;
    var key = "leadrelay.meeting." + timer.getAttribute("data-week");
    var shown = timer.querySelector(".time");
    var status = timer.querySelector(".timer-status");
    var started = null;
    try {
      started = parseInt(window.sessionStorage.getItem(key), 10) || null;
    } catch (e) {
      started = null;
    }
    // A reload keeps the meeting's clock; a new meeting starts its own.
    if (!started) {
      started = Date.now();
      try {
        window.sessionStorage.setItem(key, String(started));
      } catch (e) {
        // Private windows may refuse storage; the timer still runs.
      }
    }

    function tick() {
      var left = total - (Date.now() - started) / 1000;
      shown.textContent = clock(left);
      timer.classList.toggle("soon", left <= 120 && left > 0);
      timer.classList.toggle("over", left <= 0);
      status.textContent = left <= 0 ? "time is up" : "left";
    }

    var restart = timer.querySelector("[data-restart]");
    if (restart) {
      restart.addEventListener("click", function () {
        started = Date.now();
        try {
          window.sessionStorage.setItem(key, String(started));
        } catch (e) {
          // As above.
        }
        tick();
      });
    }
    tick();
    window.setInterval(tick, 250);
  }

  function setUpSteps(root) {
    var steps = Array.prototype.slice.call(root.querySelectorAll("[data-step]"));
    var prev = root.querySelector("[data-go=prev]");
    var next = root.querySelector("[data-go=next]");
    var where = root.querySelector("[data-where]");
    var dots = Array.prototype.slice.call(root.querySelectorAll("[data-dot]"));
    var current = 0;

    function show(index, moved) {
      current = Math.max(0, Math.min(steps.length - 1, index));
      steps.forEach(function (step, i) {
        step.classList.toggle("current", i === current);
        step.setAttribute("aria-hidden", i === current ? "false" : "true");
      });
      dots.forEach(function (dot, i) {
        if (i === current) {
          dot.setAttribute("aria-current", "step");
        } else {
          dot.removeAttribute("aria-current");
        }
      });
      prev.disabled = current === 0;
      next.disabled = current === steps.length - 1;
      where.textContent =
        current + 1 + " of " + steps.length + ": " + steps[current].getAttribute("data-title");
      // Only once the page has loaded: a fragment in the address while it
      // loads makes the browser scroll to it when loading ends.
      if (moved) {
        window.history.replaceState(null, "", "#" + steps[current].id);
        window.scrollTo(0, 0);
      }
    }

    prev.addEventListener("click", function () {
      show(current - 1, true);
    });
    next.addEventListener("click", function () {
      show(current + 1, true);
    });
    dots.forEach(function (dot, i) {
      dot.addEventListener("click", function (event) {
        event.preventDefault();
        show(i, true);
      });
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
      if (typing || event.altKey || event.ctrlKey || event.metaKey) {
        return;
      }
      if (event.key === "ArrowRight" || event.key === "PageDown") {
        event.preventDefault();
        show(current + 1, true);
      } else if (event.key === "ArrowLeft" || event.key === "PageUp") {
        event.preventDefault();
        show(current - 1, true);
      }
    });

    // A refused decision comes back on the form, whatever the address says.
    var wanted = root.getAttribute("data-start") || window.location.hash.slice(1);
    var start = 0;
    steps.forEach(function (step, i) {
      if (step.id === wanted) {
        start = i;
      }
    });
    root.classList.add("stepping");
    show(start);
  }

  function setUp() {
    var root = document.querySelector("[data-meeting]");
    if (!root) {
      return;
    }
    var timer = root.querySelector("[data-timer]");
    if (timer) {
      setUpTimer(timer);
    }
    setUpSteps(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
