"""The Django web app: settings, URLs, pages. Views stay thin over services/selectors."""
