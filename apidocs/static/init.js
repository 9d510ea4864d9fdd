// Starts Swagger UI on the document named by #swagger-ui's data-url. The
// validator badge is off: it would send the document to an outside
// service, and this page loads nothing from outside the server.
(function () {
  var el = document.getElementById('swagger-ui');
  window.ui = window.SwaggerUIBundle({
    url: el.dataset.url,
    domNode: el,
    deepLinking: true,
    validatorUrl: null,
    displayOperationId: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
  });
})();
