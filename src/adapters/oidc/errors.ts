import { ChangeproofError } from '../../errors.ts';

export type OidcErrorCode = 'LOGIN_REFUSED' | 'NO_ROLE';

/**
 * A login the control plane refuses: a bad or replayed callback, an id_token that does not verify
 * (401), or a person whose groups map to no changeproof role (403). An unreachable issuer is an
 * UpstreamError instead.
 */
export class OidcError extends ChangeproofError<OidcErrorCode> {
  constructor(code: OidcErrorCode, message: string, cause?: unknown) {
    super(code, message, {
      category: code === 'NO_ROLE' ? 'forbidden' : 'unauthenticated',
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
