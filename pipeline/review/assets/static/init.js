// Initialises GOV.UK Frontend components. Loaded as an external module
// (<script type="module" src="/assets/init.js">) because the review site's
// Content-Security-Policy forbids inline script, so the usual inline snippet
// from GOV.UK Frontend's page template lives here instead.
//
// The page's <body> needs class="govuk-template__body". GOV.UK Frontend 5.x
// only initialises when <body> also has "govuk-frontend-supported"; any
// browser that runs this module supports ES modules, which is exactly what
// the template's 'noModule' in HTMLScriptElement.prototype check tests for.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}

initAll();
