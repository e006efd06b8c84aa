package org.contextvars4j.testapp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;

/**
 * The servlet of the web application that {@code WebApplicationLoaderIT} deploys: its class file
 * is copied into the application's {@code WEB-INF/classes}, the core into {@code WEB-INF/lib}.
 * {@code GET ?value=V} answers, one {@code key=value} line each, with the class loader of its own
 * class ({@code servlet=}), the class loader of {@link Context} as the application sees it ({@code
 * core=}, {@code bootstrap} for none), and what a task of a plain {@link ThreadPoolExecutor},
 * submitted after the request set a variable to {@code V}, sees ({@code pool=}). If the core
 * cannot be used, it answers 500 with the failure ({@code failure=} and {@code cause=} lines) after
 * the lines it could write. The variable is reset before the answer.
 *
 * <p>The servlet refers to the core in its method only, never in a field or its initialiser, so
 * that the class loads and the failure of the first use is its to report.
 */
public final class LoaderServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** Every wait of the servlet is bounded by this. */
  private static final long TIMEOUT_SECONDS = 30;

  @Override
  @SuppressWarnings("try") // the token is there to be closed
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    StringWriter body = new StringWriter();
    PrintWriter out = new PrintWriter(body);
    out.println("servlet=" + nameOf(LoaderServlet.class.getClassLoader()));
    int status = HttpServletResponse.SC_OK;
    try {
      // A class literal loads the class without initialising it: the use comes after.
      out.println("core=" + nameOf(Context.class.getClassLoader()));
      ContextVar<String> value = ContextVar.named("value", "-");
      // Reset at the end: Tomcat's request threads belong to its own pool (not a JDK executor,
      // which the agent instruments), so what a request sets would stay in the thread's context
      // for the thread's next request.
      try (Token<String> set = value.set(request.getParameter("value"))) {
        ThreadPoolExecutor pool =
            new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
        try {
          out.println("pool=" + pool.submit(value::get).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        } finally {
          pool.shutdownNow();
          if (!pool.awaitTermination(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            out.println("pool did not terminate");
            status = HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
          }
        }
      }
    } catch (Throwable failure) {
      // ExceptionInInitializerError at the first use, NoClassDefFoundError at later ones.
      if (failure instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      status = HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
      out.println("failure=" + failure);
      for (Throwable cause = failure.getCause(); cause != null; cause = cause.getCause()) {
        out.println("cause=" + cause);
      }
    }
    out.flush();
    response.setStatus(status);
    response.setContentType("text/plain;charset=UTF-8");
    response.getWriter().write(body.toString());
  }

  private static String nameOf(ClassLoader loader) {
    return loader == null ? "bootstrap" : loader.getClass().getName();
  }
}
