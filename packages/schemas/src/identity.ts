import { Type, type Static } from '@sinclair/typebox';
import { ROLES } from '@vaultflow/domain';
import { Id, IdParams, Name, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';

const Role = StringEnum(ROLES);
const Username = Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]*$' });
const Password = Type.String({ minLength: 12, maxLength: 256, description: 'at least 12 characters' });

export const UserResponse = named(
  'UserResponse',
  Type.Object({
    id: Type.String(),
    username: Type.String(),
    role: Role,
    enabled: Type.Boolean(),
    last_login_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
    created_by: Type.String(),
  }),
);
export type UserResponse = Static<typeof UserResponse>;

export const LoginRequest = named(
  'LoginRequest',
  Type.Object({ username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
);
export type LoginRequest = Static<typeof LoginRequest>;
export const LoginResponse = named('LoginResponse', Type.Object({ token: Type.String(), expires_at: Timestamp, user: UserResponse }));
export type LoginResponse = Static<typeof LoginResponse>;

export const CreateUserRequest = named('CreateUserRequest', Type.Object({ username: Username, password: Password, role: Role }, { additionalProperties: false }));
export type CreateUserRequest = Static<typeof CreateUserRequest>;
export const UpdateUserRequest = named(
  'UpdateUserRequest',
  Type.Object({ password: Type.Optional(Password), role: Type.Optional(Role), enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 }),
);
export type UpdateUserRequest = Static<typeof UpdateUserRequest>;
export const UserListQuery = listQuery(['username', 'created_at'] as const, { role: Type.Optional(Role) });
export type UserListQuery = Static<typeof UserListQuery>;
export const UserListResponse = named('UserListResponse', Type.Object({ users: Type.Array(UserResponse), total: Type.Integer() }));

export const TokenResponse = named(
  'TokenResponse',
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    user_id: Type.String(),
    username: Type.String(),
    token_prefix: Type.String(),
    expires_at: Nullable(Timestamp),
    last_used_at: Nullable(Timestamp),
    created_at: Timestamp,
  }),
);
export type TokenResponse = Static<typeof TokenResponse>;
export const CreateTokenRequest = named(
  'CreateTokenRequest',
  Type.Object(
    {
      name: Name,
      user_id: Type.Optional(Id),
      expires_in_days: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 3650 }))),
    },
    { additionalProperties: false },
  ),
);
export type CreateTokenRequest = Static<typeof CreateTokenRequest>;
export const CreatedTokenResponse = named(
  'CreatedTokenResponse',
  Type.Composite([TokenResponse, Type.Object({ token: Type.String({ description: 'shown only once' }) })]),
);
export const TokenListQuery = listQuery(['created_at', 'name'] as const, { user_id: Type.Optional(Id) });
export type TokenListQuery = Static<typeof TokenListQuery>;
export const TokenListResponse = named('TokenListResponse', Type.Object({ tokens: Type.Array(TokenResponse), total: Type.Integer() }));

export const authEndpoints = {
  login: endpoint({ operationId: 'login', method: 'post', path: '/auth/login', tag: 'Authentication', summary: 'Exchange a username and password for a session token (rate-limited)', permission: 'public', body: LoginRequest, responses: { 200: LoginResponse } }),
  logout: endpoint({ operationId: 'logout', method: 'post', path: '/auth/logout', tag: 'Authentication', summary: 'End the current session', permission: 'authenticated', responses: { 204: null } }),
  me: endpoint({ operationId: 'whoAmI', method: 'get', path: '/auth/me', tag: 'Authentication', summary: 'The authenticated user', permission: 'authenticated', responses: { 200: UserResponse } }),
};

export const userEndpoints = {
  list: endpoint({ operationId: 'listUsers', method: 'get', path: '/users', tag: 'Users', summary: 'List users', permission: 'administer', query: UserListQuery, responses: { 200: UserListResponse } }),
  create: endpoint({ operationId: 'createUser', method: 'post', path: '/users', tag: 'Users', summary: 'Create a user', permission: 'administer', body: CreateUserRequest, responses: { 201: UserResponse } }),
  get: endpoint({ operationId: 'getUser', method: 'get', path: '/users/:id', tag: 'Users', summary: 'Get one user', permission: 'administer', params: IdParams, responses: { 200: UserResponse } }),
  update: endpoint({ operationId: 'updateUser', method: 'put', path: '/users/:id', tag: 'Users', summary: 'Change a user\'s password, role or enabled state (ends their sessions)', permission: 'administer', params: IdParams, body: UpdateUserRequest, responses: { 200: UserResponse } }),
  remove: endpoint({ operationId: 'deleteUser', method: 'delete', path: '/users/:id', tag: 'Users', summary: 'Delete a user and their tokens', permission: 'administer', params: IdParams, responses: { 204: null } }),
};

export const tokenEndpoints = {
  list: endpoint({ operationId: 'listTokens', method: 'get', path: '/tokens', tag: 'API tokens', summary: 'List API tokens (never the secrets)', permission: 'administer', query: TokenListQuery, responses: { 200: TokenListResponse } }),
  create: endpoint({ operationId: 'createToken', method: 'post', path: '/tokens', tag: 'API tokens', summary: 'Create an API token for a user (default: yourself); the secret is shown once', permission: 'administer', body: CreateTokenRequest, responses: { 201: CreatedTokenResponse } }),
  remove: endpoint({ operationId: 'deleteToken', method: 'delete', path: '/tokens/:id', tag: 'API tokens', summary: 'Revoke an API token', permission: 'administer', params: IdParams, responses: { 204: null } }),
};
