package tlsclose.shim;

/** A wait inside a step met the step's (or the run's) deadline. */
final class StepTimeout extends Exception {
    private static final long serialVersionUID = 1L;

    StepTimeout(String what) {
        super(what);
    }
}
