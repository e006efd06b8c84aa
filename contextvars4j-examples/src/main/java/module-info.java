/** Runnable walkthroughs of contextvars4j. */
module org.contextvars4j.examples {
  requires org.contextvars4j;
}
