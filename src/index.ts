// The public surface of the `kstate` package, listed by hand.
export {
  AlreadyExistsError, BackendError, ConflictError, InvalidPathError, KstateError, NotFoundError, PermissionError,
  PreconditionFailedError, ValidationError, type ErrorCode,
} from "./vfs/errors";
