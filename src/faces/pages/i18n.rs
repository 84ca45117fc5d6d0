//! The pages' two languages. Every string a page shows lives here, once per language, so a
//! missing translation is a compile error. Placeholders are `{name}`, filled by [`fill`].

/// A page language, chosen by `?lang=`, then the `usher_lang` cookie the switch sets, then
/// `Accept-Language`; English when nothing matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
}

impl Lang {
    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            _ => None,
        }
    }

    /// The best supported language of an `Accept-Language` header (highest q, first on ties).
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in accept_language.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(primary)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Ko => &KO,
        }
    }
}

/// Replaces each `{key}` of `template` with its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

pub struct Texts {
    pub code: &'static str,
    /// The other language: its code and its own name, for the switch.
    pub other_code: &'static str,
    pub other_name: &'static str,
    pub language_nav: &'static str,

    pub join_heading: &'static str,
    pub invited_by: &'static str,
    pub invited: &'static str,
    pub invited_email: &'static str,
    pub role: &'static str,
    pub expires: &'static str,
    pub role_owner: &'static str,
    pub role_developer: &'static str,
    pub role_member: &'static str,

    pub signup_heading: &'static str,
    pub signup_intro: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub password_confirmation: &'static str,
    pub password_hint: &'static str,
    pub signup_button: &'static str,

    pub signin_accept_heading: &'static str,
    pub signin_accept_intro: &'static str,
    pub signin_accept_button: &'static str,
    pub signed_in_as: &'static str,
    pub accept_button: &'static str,
    pub wrong_account_heading: &'static str,
    pub wrong_account: &'static str,
    pub sign_out: &'static str,
    pub decline_heading: &'static str,
    pub decline_intro: &'static str,
    pub decline_button: &'static str,

    pub declined_title: &'static str,
    pub declined_body: &'static str,
    pub expired_title: &'static str,
    pub expired_body: &'static str,
    pub cancelled_title: &'static str,
    pub cancelled_body: &'static str,
    pub accepted_title: &'static str,
    pub accepted_body: &'static str,
    pub rejected_title: &'static str,
    pub rejected_body: &'static str,
    pub unknown_title: &'static str,
    pub unknown_body: &'static str,
    pub csrf_title: &'static str,
    pub csrf_body: &'static str,
    pub bad_form_title: &'static str,
    pub bad_form_body: &'static str,
    pub error_title: &'static str,
    pub error_body: &'static str,
    pub already_member_title: &'static str,
    pub already_member_body: &'static str,
    pub go_to_account: &'static str,
    pub sign_in_link: &'static str,

    pub fix_errors: &'static str,
    pub rate_limited: &'static str,
    pub bad_credentials: &'static str,
    pub password_too_short: &'static str,
    pub password_too_long: &'static str,
    pub password_common: &'static str,
    pub password_mismatch: &'static str,
    pub name_invalid: &'static str,
    pub email_taken: &'static str,

    pub sign_in_title: &'static str,
    pub sign_in_button: &'static str,
    pub account_title: &'static str,
    pub orgs_heading: &'static str,
    pub no_orgs: &'static str,
    pub invitations_heading: &'static str,
    pub no_invitations: &'static str,
    pub unverified_invitations: &'static str,
    pub joined: &'static str,
    pub declined_notice: &'static str,
    pub invitation_from: &'static str,

    pub verify_title: &'static str,
    pub verify_body: &'static str,
    pub verify_button: &'static str,
    pub verified_title: &'static str,
    pub verified_body: &'static str,
    pub used_link_body: &'static str,
    pub reset_title: &'static str,
    pub reset_body: &'static str,
    pub new_password: &'static str,
    pub reset_button: &'static str,
    pub reset_done_title: &'static str,
    pub reset_done_body: &'static str,
}

static EN: Texts = Texts {
    code: "en",
    other_code: "ko",
    other_name: "한국어",
    language_nav: "Language",

    join_heading: "Join {org}",
    invited_by: "{inviter} invited you to join {org}.",
    invited: "You are invited to join {org}.",
    invited_email: "Invited e-mail",
    role: "Role",
    expires: "Expires",
    role_owner: "Owner",
    role_developer: "Developer",
    role_member: "Member",

    signup_heading: "Create your account",
    signup_intro: "This link confirms your e-mail address. Choose a name and a password to join.",
    name: "Name",
    email: "E-mail",
    password: "Password",
    password_confirmation: "Confirm password",
    password_hint: "At least {min} characters. Common passwords are refused.",
    signup_button: "Create account and join",

    signin_accept_heading: "Sign in to accept",
    signin_accept_intro: "An account with this e-mail address exists. Sign in to join.",
    signin_accept_button: "Sign in and accept",
    signed_in_as: "You are signed in as {email}.",
    accept_button: "Accept invitation",
    wrong_account_heading: "You are signed in with another account",
    wrong_account: "This invitation was sent to {invited}, but you are signed in as {email}. Sign out, then sign in with the invited address.",
    sign_out: "Sign out",
    decline_heading: "Not for you?",
    decline_intro: "Declining tells the organization you will not join. The link stops working.",
    decline_button: "Decline invitation",

    declined_title: "Invitation declined",
    declined_body: "You declined the invitation to join {org}. You can close this page.",
    expired_title: "This invitation has expired",
    expired_body: "Ask the person who invited you to send a new invitation.",
    cancelled_title: "This invitation was cancelled",
    cancelled_body: "The organization withdrew it. Ask them for a new invitation if you expected one.",
    accepted_title: "This invitation was already accepted",
    accepted_body: "If it was you, sign in to see your organizations.",
    rejected_title: "This invitation was declined",
    rejected_body: "Ask the person who invited you for a new invitation if you changed your mind.",
    unknown_title: "This link is not valid",
    unknown_body: "Check that you opened the whole link from the e-mail, or ask for a new invitation.",
    csrf_title: "This form has expired",
    csrf_body: "For your safety the form was not sent. Go back, reload the page and try again.",
    bad_form_title: "The form could not be read",
    bad_form_body: "Go back, reload the page and try again.",
    error_title: "Something went wrong",
    error_body: "Nothing was changed. Please try again in a moment.",
    already_member_title: "You are already a member",
    already_member_body: "You already belong to {org}; the invitation was not used.",
    go_to_account: "Go to your account",
    sign_in_link: "Sign in",

    fix_errors: "Please correct the fields marked below.",
    rate_limited: "Too many attempts from your network. Try again in {secs} seconds.",
    bad_credentials: "Wrong e-mail or password.",
    password_too_short: "Use at least {n} characters.",
    password_too_long: "Use at most {n} characters.",
    password_common: "This password is too common. Choose another one.",
    password_mismatch: "The two passwords do not match.",
    name_invalid: "Enter a name of at most 100 characters.",
    email_taken: "An account with this e-mail address already exists. Sign in to accept.",

    sign_in_title: "Sign in",
    sign_in_button: "Sign in",
    account_title: "Your account",
    orgs_heading: "Your organizations",
    no_orgs: "You are not a member of any organization yet.",
    invitations_heading: "Pending invitations",
    no_invitations: "No pending invitations.",
    unverified_invitations: "Verify your e-mail address to see the invitations sent to it.",
    joined: "You joined {org}.",
    declined_notice: "The invitation was declined.",
    invitation_from: "{org} — from {inviter}",

    verify_title: "Confirm your e-mail address",
    verify_body: "Press the button to confirm that this address is yours.",
    verify_button: "Confirm my e-mail address",
    verified_title: "Your e-mail address is confirmed",
    verified_body: "Invitations sent to it now appear in your account.",
    used_link_body: "It may have been used already or have expired. Ask for a new e-mail.",
    reset_title: "Choose a new password",
    reset_body: "When the password changes, every session of your account ends.",
    new_password: "New password",
    reset_button: "Change password",
    reset_done_title: "Your password was changed",
    reset_done_body: "Sign in with the new password.",
};

static KO: Texts = Texts {
    code: "ko",
    other_code: "en",
    other_name: "English",
    language_nav: "언어",

    join_heading: "{org}에 참여하기",
    invited_by: "{inviter} 님이 {org}에 초대했습니다.",
    invited: "{org}에 초대되었습니다.",
    invited_email: "초대받은 이메일",
    role: "역할",
    expires: "만료",
    role_owner: "소유자",
    role_developer: "개발자",
    role_member: "멤버",

    signup_heading: "계정 만들기",
    signup_intro: "이 링크로 이메일 주소가 확인됩니다. 이름과 비밀번호를 정하고 참여하세요.",
    name: "이름",
    email: "이메일",
    password: "비밀번호",
    password_confirmation: "비밀번호 확인",
    password_hint: "{min}자 이상. 흔한 비밀번호는 사용할 수 없습니다.",
    signup_button: "계정 만들고 참여하기",

    signin_accept_heading: "로그인하고 수락하기",
    signin_accept_intro: "이 이메일 주소로 된 계정이 있습니다. 로그인하여 참여하세요.",
    signin_accept_button: "로그인하고 수락",
    signed_in_as: "{email}(으)로 로그인되어 있습니다.",
    accept_button: "초대 수락",
    wrong_account_heading: "다른 계정으로 로그인되어 있습니다",
    wrong_account: "이 초대는 {invited}(으)로 보낸 것이지만 지금은 {email}(으)로 로그인되어 있습니다. 로그아웃한 뒤 초대받은 주소로 로그인하세요.",
    sign_out: "로그아웃",
    decline_heading: "참여하지 않으시나요?",
    decline_intro: "거절하면 조직에 참여하지 않는다는 것이 전달되고 이 링크는 더 이상 쓸 수 없습니다.",
    decline_button: "초대 거절",

    declined_title: "초대를 거절했습니다",
    declined_body: "{org} 초대를 거절했습니다. 이 페이지를 닫아도 됩니다.",
    expired_title: "만료된 초대입니다",
    expired_body: "초대한 사람에게 새 초대를 요청하세요.",
    cancelled_title: "취소된 초대입니다",
    cancelled_body: "조직에서 초대를 취소했습니다. 초대를 기다리셨다면 새 초대를 요청하세요.",
    accepted_title: "이미 수락된 초대입니다",
    accepted_body: "본인이 수락했다면 로그인하여 조직을 확인하세요.",
    rejected_title: "거절된 초대입니다",
    rejected_body: "마음이 바뀌었다면 초대한 사람에게 새 초대를 요청하세요.",
    unknown_title: "유효하지 않은 링크입니다",
    unknown_body: "이메일의 링크 전체를 열었는지 확인하거나 새 초대를 요청하세요.",
    csrf_title: "양식이 만료되었습니다",
    csrf_body: "안전을 위해 양식을 보내지 않았습니다. 뒤로 가서 페이지를 새로 고친 뒤 다시 시도하세요.",
    bad_form_title: "양식을 읽을 수 없습니다",
    bad_form_body: "뒤로 가서 페이지를 새로 고친 뒤 다시 시도하세요.",
    error_title: "문제가 발생했습니다",
    error_body: "아무것도 변경되지 않았습니다. 잠시 후 다시 시도하세요.",
    already_member_title: "이미 멤버입니다",
    already_member_body: "이미 {org}에 소속되어 있어 초대는 사용되지 않았습니다.",
    go_to_account: "내 계정으로 가기",
    sign_in_link: "로그인",

    fix_errors: "아래 표시된 항목을 고쳐 주세요.",
    rate_limited: "시도가 너무 많습니다. {secs}초 후에 다시 시도하세요.",
    bad_credentials: "이메일 또는 비밀번호가 올바르지 않습니다.",
    password_too_short: "{n}자 이상 입력하세요.",
    password_too_long: "{n}자 이하로 입력하세요.",
    password_common: "너무 흔한 비밀번호입니다. 다른 비밀번호를 정하세요.",
    password_mismatch: "두 비밀번호가 일치하지 않습니다.",
    name_invalid: "이름을 100자 이내로 입력하세요.",
    email_taken: "이 이메일 주소로 된 계정이 이미 있습니다. 로그인하여 수락하세요.",

    sign_in_title: "로그인",
    sign_in_button: "로그인",
    account_title: "내 계정",
    orgs_heading: "내 조직",
    no_orgs: "아직 소속된 조직이 없습니다.",
    invitations_heading: "대기 중인 초대",
    no_invitations: "대기 중인 초대가 없습니다.",
    unverified_invitations: "이메일 주소를 인증하면 받은 초대를 볼 수 있습니다.",
    joined: "{org}에 참여했습니다.",
    declined_notice: "초대를 거절했습니다.",
    invitation_from: "{org} — {inviter} 님의 초대",

    verify_title: "이메일 주소 확인",
    verify_body: "버튼을 눌러 이 주소가 본인의 것임을 확인하세요.",
    verify_button: "이메일 주소 확인",
    verified_title: "이메일 주소가 확인되었습니다",
    verified_body: "이제 이 주소로 받은 초대가 내 계정에 표시됩니다.",
    used_link_body: "이미 사용되었거나 만료된 링크일 수 있습니다. 새 이메일을 요청하세요.",
    reset_title: "새 비밀번호 정하기",
    reset_body: "비밀번호를 바꾸면 계정의 모든 세션이 종료됩니다.",
    new_password: "새 비밀번호",
    reset_button: "비밀번호 변경",
    reset_done_title: "비밀번호가 변경되었습니다",
    reset_done_body: "새 비밀번호로 로그인하세요.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(Lang::negotiate("ko-KR,ko;q=0.9,en;q=0.8"), Some(Lang::Ko));
        assert_eq!(Lang::negotiate("fr-FR, en;q=0.5, ko;q=0.4"), Some(Lang::En));
        assert_eq!(Lang::negotiate("en;q=0.3, ko;q=0.7"), Some(Lang::Ko));
        assert_eq!(Lang::negotiate("de, fr"), None);
        assert_eq!(Lang::negotiate("ko;q=0"), None, "q=0 means not acceptable");
        assert_eq!(Lang::negotiate(""), None);
    }

    #[test]
    fn placeholders_are_filled_by_name() {
        assert_eq!(
            fill(KO.invited_by, &[("inviter", "김"), ("org", "Acme")]),
            "김 님이 Acme에 초대했습니다."
        );
    }
}
