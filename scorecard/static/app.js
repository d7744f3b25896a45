// Progressive enhancement only: every page works without JavaScript (charts are server-drawn SVG).
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
