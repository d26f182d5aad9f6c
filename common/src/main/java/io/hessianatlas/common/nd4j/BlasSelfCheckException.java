package io.hessianatlas.common.nd4j;

/**
 * The native BLAS/LAPACK computed a wrong result in {@link BlasSelfCheck}. Its message is one line
 * naming the routine, the error, the BLAS build, the core type in use and the workaround; the CLI
 * prints it and exits 1.
 */
public final class BlasSelfCheckException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String routine;

    public BlasSelfCheckException(String routine, String message) {
        super(message);
        this.routine = routine;
    }

    /** The check that failed, e.g. "dgemm TN 261x67x29". */
    public String routine() {
        return routine;
    }
}
