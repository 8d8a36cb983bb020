/* The customer search of the navigation bar (components.search_box).

   The typed text stays in the browser's input field, which no callback writes: typing at
   any speed keeps every keystroke. After a pause of SEARCH_PAUSE_MS the text goes to the
   store `customer-search-term`, whose callback answers with links to the matching
   customers. Enter opens the first of them, Escape closes the list. */
(function () {
    var SEARCH_PAUSE_MS = 200;
    var pending = null;

    function send(value) {
        if (window.dash_clientside && window.dash_clientside.set_props) {
            window.dash_clientside.set_props("customer-search-term", {data: {term: value}});
        }
    }

    document.addEventListener("input", function (event) {
        if (event.target.id !== "customer-search") {
            return;
        }
        var value = event.target.value;
        window.clearTimeout(pending);
        pending = window.setTimeout(function () { send(value); }, SEARCH_PAUSE_MS);
    });

    document.addEventListener("keydown", function (event) {
        if (event.target.id !== "customer-search") {
            return;
        }
        var results = document.getElementById("customer-results");
        if (event.key === "Enter") {
            var first = results && results.querySelector("a.search-hit");
            if (first) {
                event.preventDefault();
                first.click();
            }
        } else if (event.key === "Escape") {
            window.clearTimeout(pending);
            event.target.value = "";
            send("");
        } else if (event.key === "ArrowDown") {
            var hit = results && results.querySelector("a.search-hit");
            if (hit) {
                event.preventDefault();
                hit.focus();
            }
        }
    });
})();
