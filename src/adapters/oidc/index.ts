export { OidcClient, type OidcClientOptions, type PendingLogin } from './client.ts';
export { OidcError, type OidcErrorCode } from './errors.ts';
export { OidcIdentity, rolesFromGroups, type SessionClaims } from './identity.ts';
export {
  buildOidcLogin,
  CLIENT_SECRET_VARIABLE,
  DEFAULT_SESSION_TTL_SECONDS,
  OidcLogin,
  type OidcLoginOptions,
} from './login.ts';
export { LOGIN_COOKIE, registerOidcRoutes } from './routes.ts';
export { CookieSealer, SESSION_SECRET_VARIABLE, sessionSecret } from './sealed-cookie.ts';
